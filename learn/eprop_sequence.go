package learn

import (
	"math"

	"github.com/spikebridge/spikebridge/snn"
)

// worker simulates one sequence at a time and forms its gradient. Its
// buffers grow to the longest sequence and are reused.
type worker struct {
	state *snn.RecurrentState
	psi   []float64 // steps × neurons: surrogate gradient ψ
	err   []float64 // steps × outputs: readout error (zero outside the window)
	probs []float64 // outputs
	// spikes of each step as CSR: neurons firedIdx[firedStart[t]:firedStart[t+1]]
	firedStart []int32
	firedIdx   []int32
	// nonzero inputs of each step as CSR with their values
	inStart []int32
	inIdx   []int32
	inVal   []float64
	counts  []float64 // spikes per neuron over the sequence
	// neurons with ψ ≠ 0 at each step as CSR, and scratch for their update
	nearStart, nearIdx []int32
	oldAdj, oldTrace   []float64

	// backward sweep
	learnSig, learnFilt, adjoint, trace, errFilt, reg []float64
	windowSum                                         []float64
}

// sampleGrad is the gradient of one sequence, transposed (pre, post) while
// it is summed, and its scores.
type sampleGrad struct {
	input, recurrent, output []float64 // shaped like the weights at the end
	inputT, recT, outT       []float64
	loss                     float64
	correct                  bool
	spikes, synOps           int64
}

func newWorker(n *snn.Recurrent) (*worker, error) {
	st, err := snn.NewRecurrentState(n)
	if err != nil {
		return nil, err
	}
	N, K := n.Neurons, n.Outputs
	return &worker{
		state: st, probs: make([]float64, K), counts: make([]float64, N),
		learnSig: make([]float64, N), learnFilt: make([]float64, N), adjoint: make([]float64, N),
		trace: make([]float64, N), errFilt: make([]float64, K), reg: make([]float64, N),
		windowSum: make([]float64, K), oldAdj: make([]float64, N), oldTrace: make([]float64, N),
	}, nil
}

func newSampleGrad(n *snn.Recurrent) *sampleGrad {
	nIn, nRec, nOut := n.Neurons*n.Inputs, n.Neurons*n.Neurons, n.Outputs*n.Neurons
	return &sampleGrad{
		input: make([]float64, nIn), recurrent: make([]float64, nRec), output: make([]float64, nOut),
		inputT: make([]float64, nIn), recT: make([]float64, nRec), outT: make([]float64, nOut),
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// sequence runs the forward pass of seq, keeping ψ, spikes and errors, then
// sweeps backwards in time to form the e-prop gradient into g.
//
// With c_j^t = L̃_j^t/W + reg_j, where L̃ is the learning signal filtered
// backwards by the readout leak κ (L̃^t = (1−κ)L^t + κL̃^(t+1)), NEST's sum
// Σ_t L^t ē^t/W + reg Σ_t e^t equals Σ_t c^t e^t. For ALIF neurons
// e^t = ψ^t(z̄^t − βε^(t−1)) with ε^t = ψ^t z̄^t + (ρ − ψ^t β)ε^(t−1), so
// Σ_t c^t e^t = Σ_t q^t z̄^t with q^t = ψ^t(c^t − βλ^t) and the adjoint
// λ^(t−1) = c^t ψ^t + (ρ − ψ^t β)λ^t (β = 0 for LIF). Finally z̄ is the
// α-filtered presynaptic input, so Σ_t q^t z̄^t = Σ_(t: pre active) s^t Q^t
// with Q^t = q^t + αQ^(t+1): one column addition per presynaptic event.
func (w *worker) sequence(e *Eprop, steps int, seq *Sequence, g *sampleGrad) {
	net := e.Net
	cfg := &e.Config
	N, K, In := net.Neurons, net.Outputs, net.Inputs
	w.startSequence(steps, N, K)

	st := w.state
	st.Reset()
	startSpikes, startSynOps := st.Counters.Spikes, st.Counters.SynOps
	windowStart := steps - cfg.LossWindow
	gammaScale := cfg.SurrogateScale
	vth := net.Threshold
	loss := 0.0
	for t := 0; t < steps; t++ {
		x := seq.Inputs[t*In : (t+1)*In]
		w.inStart[t] = int32(len(w.inIdx))
		for i, xi := range x {
			if xi != 0 {
				w.inIdx = append(w.inIdx, int32(i))
				w.inVal = append(w.inVal, xi)
			}
		}
		net.Step(st, x)
		w.nearStart[t] = int32(len(w.nearIdx))
		w.recordPsi(w.psi[t*N:(t+1)*N], st, gammaScale, vth)
		w.firedStart[t] = int32(len(w.firedIdx))
		for _, j := range st.Fired {
			w.firedIdx = append(w.firedIdx, j)
			w.counts[j]++
		}
		errT := w.err[t*K : (t+1)*K]
		if t < windowStart {
			clear(errT)
			continue
		}
		loss += w.stepError(e, seq, t, errT)
	}
	w.firedStart[steps] = int32(len(w.firedIdx))
	w.nearStart[steps] = int32(len(w.nearIdx))
	w.inStart[steps] = int32(len(w.inIdx))
	window := float64(cfg.LossWindow)
	g.loss = loss / window
	if cfg.Loss == LossCrossEntropy {
		best := 0
		for k, v := range w.windowSum {
			if v > w.windowSum[best] {
				best = k
			}
		}
		g.correct = best == seq.Class
	}
	g.spikes = st.Counters.Spikes - startSpikes
	g.synOps = st.Counters.SynOps - startSynOps

	T := float64(steps)
	for j := range w.reg {
		w.reg[j] = cfg.RegStrength * (w.counts[j]/T - cfg.TargetRate) / T
	}
	clear(g.inputT)
	clear(g.recT)
	clear(g.outT)
	if cfg.Gradient == GradientBPTT {
		w.backwardBPTT(e, steps, windowStart, g)
	} else {
		w.backwardEprop(e, steps, windowStart, g)
	}
	transposeTo(g.input, g.inputT, In, N, 1)
	transposeTo(g.recurrent, g.recT, N, N, 1)
	transposeTo(g.output, g.outT, N, K, (1-net.ReadoutLeak)/window)
}

// startSequence sizes and clears the worker's per-sequence buffers.
func (w *worker) startSequence(steps, N, K int) {
	w.psi = grow(w.psi, steps*N)
	w.err = grow(w.err, steps*K)
	w.firedStart = grow(w.firedStart, steps+1)
	w.inStart = grow(w.inStart, steps+1)
	w.nearStart = grow(w.nearStart, steps+1)
	w.firedIdx = w.firedIdx[:0]
	w.nearIdx = w.nearIdx[:0]
	w.inIdx = w.inIdx[:0]
	w.inVal = w.inVal[:0]
	clear(w.counts)
	clear(w.windowSum)
}

// recordPsi writes the surrogate derivative ψ of every neuron after a step
// into psi and lists the neurons with ψ ≠ 0 in w.nearIdx.
func (w *worker) recordPsi(psi []float64, st *snn.RecurrentState, gammaScale, vth float64) {
	v, th, blocked := st.V[:len(psi)], st.ThresholdNow[:len(psi)], st.Blocked[:len(psi)]
	for j := range psi {
		// Neurons farther than v_th from threshold or refractory have ψ = 0.
		if d := v[j] - th[j]; blocked[j] || d >= vth || d <= -vth {
			psi[j] = 0
		} else if psi[j] = gammaScale * (1 - math.Abs(d/vth)) / vth; psi[j] != 0 {
			w.nearIdx = append(w.nearIdx, int32(j))
		}
	}
}

// stepError writes the output error of step t (in the loss window) into
// errT, adds the readout to the window's sum and returns the step's loss.
func (w *worker) stepError(e *Eprop, seq *Sequence, t int, errT []float64) float64 {
	net, cfg, st := e.Net, &e.Config, w.state
	K := net.Outputs
	loss := 0.0
	net.OutputInto(w.probs, st)
	switch cfg.Loss {
	case LossCrossEntropy:
		for k := range errT {
			errT[k] = w.probs[k]
		}
		errT[seq.Class] -= 1
		loss = -math.Log(w.probs[seq.Class])
	case LossMSE:
		target := seq.Target[t*K : (t+1)*K]
		sq := 0.0
		for k := range errT {
			errT[k] = st.Y[k] - target[k]
			sq += errT[k] * errT[k]
		}
		loss = 0.5 * sq
	}
	for k := range w.windowSum {
		w.windowSum[k] += st.Y[k]
	}
	return loss
}

// transposeTo writes scale × srcᵀ into dst; src is rows × cols.
func transposeTo(dst, src []float64, rows, cols int, scale float64) {
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			dst[c*rows+r] = scale * src[r*cols+c]
		}
	}
}

// backwardEprop sweeps backwards in time and sums the e-prop gradient of the
// sequence (see sequence) into g's transposed buffers.
func (w *worker) backwardEprop(e *Eprop, steps, windowStart int, g *sampleGrad) {
	net := e.Net
	N, K := net.Neurons, net.Outputs
	window := float64(e.Config.LossWindow)
	clear(w.learnFilt)
	clear(w.adjoint)
	clear(w.trace)
	clear(w.errFilt)
	kappa, alpha, rho := net.ReadoutLeak, net.Leak, net.AdaptationDecay
	beta := net.Adaptation
	B := e.Feedback
	for t := steps - 1; t >= 0; t-- {
		errT := w.err[t*K : (t+1)*K]
		psi := w.psi[t*N : (t+1)*N]
		active := t >= windowStart
		filt, adj, trace, reg, bj := w.learnFilt[:N], w.adjoint[:N], w.trace[:N], w.reg[:N], beta[:N]
		if active {
			for j := range filt {
				l := 0.0
				row := B[j*K : (j+1)*K]
				for k, b := range row {
					l += b * errT[k]
				}
				filt[j] = (1-kappa)*l + kappa*filt[j]
			}
		} else {
			for j, f := range filt {
				filt[j] = kappa * f // (1−κ)·0 + κf, the same number
			}
		}
		// Neurons with ψ = 0 have no eligibility this step: adjoint and
		// trace only decay. The others (listed in the forward pass) take the
		// full update from their values before the decay.
		near := w.nearIdx[w.nearStart[t]:w.nearStart[t+1]]
		oldAdj, oldTrace := w.oldAdj[:len(near)], w.oldTrace[:len(near)]
		for n, j := range near {
			oldAdj[n], oldTrace[n] = adj[j], trace[j]
		}
		for j, a := range adj {
			adj[j] = rho * a
		}
		for j, tr := range trace {
			trace[j] = alpha * tr
		}
		for n, j := range near {
			p := psi[j]
			c := filt[j]/window + reg[j]
			q := p * (c - bj[j]*oldAdj[n])
			adj[j] = c*p + (rho-p*bj[j])*oldAdj[n]
			trace[j] = q + alpha*oldTrace[n]
		}
		w.addTraceColumns(t, N, g)
		for k := range w.errFilt {
			w.errFilt[k] = errT[k] + kappa*w.errFilt[k]
		}
		for p := w.firedStart[t]; p < w.firedStart[t+1]; p++ {
			j := int(w.firedIdx[p])
			col := g.outT[j*K : (j+1)*K]
			for k, v := range w.errFilt {
				col[k] += v
			}
		}
	}
}

// addTraceColumns adds the eligibility traces of step t to the input
// gradient's column of every input active at t and to the recurrent
// gradient's column of every neuron that fired at t−1.
func (w *worker) addTraceColumns(t, N int, g *sampleGrad) {
	for p := w.inStart[t]; p < w.inStart[t+1]; p++ {
		i, xi := int(w.inIdx[p]), w.inVal[p]
		col := g.inputT[i*N : (i+1)*N]
		if xi == 1 {
			for j, v := range w.trace {
				col[j] += v
			}
		} else {
			for j, v := range w.trace {
				col[j] += xi * v
			}
		}
	}
	if t > 0 { // spikes of step t−1 arrive at step t
		for p := w.firedStart[t-1]; p < w.firedStart[t]; p++ {
			i := int(w.firedIdx[p])
			col := g.recT[i*N : (i+1)*N]
			for j, v := range w.trace {
				col[j] += v
			}
		}
	}
}
