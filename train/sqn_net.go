package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/spikebridge/spikebridge/snn"
)

// Surrogate names the pseudo-derivative used for the spike's Heaviside step.
const (
	// SurrogateSuperSpike is SuperSpike's 1 / (1 + k|v - θ|)², the DSQN
	// choice (k = 100).
	SurrogateSuperSpike = "superspike"
	// SurrogateSigmoid is the derivative of a sigmoid of slope k:
	// k σ(k(v - θ)) (1 - σ(k(v - θ))).
	SurrogateSigmoid = "sigmoid"
)

// sqnParams holds a spiking Q-network's parameters: per layer the weights
// (out, in) row-major, and one bias vector for the first layer (DSQN's
// bias-as-extra-input column: a constant current). Hidden and output layers
// have no bias, as in DSQN.
type sqnParams struct {
	sizes   []int
	weights [][]float32
	bias0   []float32
}

func newSQNParams(sizes []int) *sqnParams {
	p := &sqnParams{sizes: append([]int(nil), sizes...), bias0: make([]float32, sizes[1])}
	for l := 0; l+1 < len(sizes); l++ {
		p.weights = append(p.weights, make([]float32, sizes[l]*sizes[l+1]))
	}
	return p
}

// initDSQN draws every weight from N(0, 1/fan_in) as sqn_torch.py does, the
// first layer's fan-in counting its bias input.
func (p *sqnParams) initDSQN(rng *rand.Rand) {
	for l, w := range p.weights {
		fan := p.sizes[l]
		if l == 0 {
			fan++
		}
		std := 1 / math.Sqrt(float64(fan))
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
		if l == 0 {
			for i := range p.bias0 {
				p.bias0[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
}

// tensors lists the parameters as W1, b1, W2, ..., WL (the optimiser's and
// checkpoints' order).
func (p *sqnParams) tensors() [][]float32 {
	out := [][]float32{p.weights[0], p.bias0}
	return append(out, p.weights[1:]...)
}

func (p *sqnParams) copyFrom(src *sqnParams) {
	for i, t := range p.tensors() {
		copy(t, src.tensors()[i])
	}
}

func (p *sqnParams) polyak(src *sqnParams, tau float32) {
	s := src.tensors()
	for k, t := range p.tensors() {
		for i, v := range s[k] {
			t[i] += tau * (v - t[i])
		}
	}
}

func (p *sqnParams) snapshot() *sqnParams {
	c := newSQNParams(p.sizes)
	c.copyFrom(p)
	return c
}

// SQNNeurons are the hidden neurons' settings and the decision length.
type SQNNeurons struct {
	Timesteps  int     // simulated steps per decision
	Threshold  float32 // firing threshold θ
	Leak       float32 // β in v = β v + I (1: IF)
	Surrogate  string  // SurrogateSuperSpike or SurrogateSigmoid
	SurrogateK float32 // steepness k of the surrogate
}

// snnNetwork returns p as an snn.Network with the same semantics as sqnNet:
// analog input, next-step propagation, subtractive reset from v(0) = 0, and
// a membrane readout whose output (accumulated input / T * T) is the Q-value.
func (p *sqnParams) snnNetwork(nr SQNNeurons) (*snn.Network, error) {
	spec := snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}, Timesteps: nr.Timesteps,
		Propagation: snn.NextStep, Readout: snn.Membrane, OutputScale: float32(nr.Timesteps)}
	for l, w := range p.weights {
		layer := snn.Layer{Name: fmt.Sprintf("fc%d", l+1), In: p.sizes[l], Out: p.sizes[l+1], Weights: w,
			Threshold: nr.Threshold, Leak: nr.Leak, Reset: snn.ResetSubtract}
		if l == 0 {
			layer.Bias = p.bias0
		}
		if l == len(p.weights)-1 {
			layer.Name = "out"
		}
		spec.Layers = append(spec.Layers, layer)
	}
	return snn.New(spec)
}

// sqnNet runs a spiking Q-network forward over a batch, recording what
// backpropagation through time needs, and computes the gradients. Its
// arithmetic is snn's next-step schedule operation for operation (per step
// and layer: v = β v + drive, spike where v >= θ, add the columns of the
// layer below's spikes of this step, subtract θ where it spiked; the output
// layer only integrates), so its Q-values equal snn.Network's bit for bit.
type sqnNet struct {
	sizes []int
	nr    SQNNeurons
	p     *sqnParams
	wt    [][]float32 // per layer (in, out): column j is what a spike of input j adds
	maxB  int

	// Recorded forward pass of the last batch.
	batch  int
	obs    []float32   // B*in
	drive  []float32   // B*h0: W1 x + b1
	u      [][]float32 // hidden layer l: B*T*n membranes after integration, before the spike test
	spk    [][]int32   // hidden layer l: B*T*n, the first spkN[(b*T+t)] of each row are the spiking neurons
	spkN   [][]int32   // hidden layer l: B*T counts
	counts []float32   // B*n_last: spikes of the last hidden layer over the decision
	q      []float32   // B*actions
	v      [][]float32 // per layer scratch membrane

	// Backward buffers.
	gs    [][]float32 // hidden layer l: B*T*n, dL/ds
	gc    [][]float32 // hidden layer l >= 1: B*T*n, dL/d(input current)
	gd    []float32   // n0
	gv    []float32   // scratch
	dwt   [][]float32 // per layer (in, out) weight gradients
	grads [][]float32 // in tensors() order, (out, in)
}

func newSQNNet(p *sqnParams, nr SQNNeurons, maxB int) *sqnNet {
	n := &sqnNet{sizes: p.sizes, nr: nr, p: p, maxB: maxB}
	L := len(p.weights)
	T := nr.Timesteps
	n.obs = make([]float32, maxB*p.sizes[0])
	n.drive = make([]float32, maxB*p.sizes[1])
	for l := 0; l < L; l++ {
		in, out := p.sizes[l], p.sizes[l+1]
		n.wt = append(n.wt, make([]float32, in*out))
		n.dwt = append(n.dwt, make([]float32, in*out))
		n.v = append(n.v, make([]float32, out))
		if l < L-1 {
			n.u = append(n.u, make([]float32, maxB*T*out))
			n.spk = append(n.spk, make([]int32, maxB*T*out))
			n.spkN = append(n.spkN, make([]int32, maxB*T))
			n.gs = append(n.gs, make([]float32, maxB*T*out))
			n.gc = append(n.gc, make([]float32, maxB*T*out))
		}
	}
	n.counts = make([]float32, maxB*p.sizes[L-1])
	n.q = make([]float32, maxB*p.sizes[L])
	n.gd = make([]float32, p.sizes[1])
	n.gv = make([]float32, maxWidth(p.sizes))
	for _, t := range p.tensors() {
		n.grads = append(n.grads, make([]float32, len(t)))
	}
	n.refresh()
	return n
}

func maxWidth(sizes []int) int {
	m := 0
	for _, s := range sizes {
		m = max(m, s)
	}
	return m
}

// refresh rebuilds the transposed weights after the parameters changed.
func (n *sqnNet) refresh() {
	for l, w := range n.p.weights {
		in, out := n.sizes[l], n.sizes[l+1]
		wt := n.wt[l]
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				wt[i*out+o] = w[o*in+i]
			}
		}
	}
}

// forward runs batch observations (row-major (batch, in)) and returns the
// Q-values (batch, actions), a view valid until the next forward.
func (n *sqnNet) forward(obs []float32, batch int) []float32 {
	in := n.sizes[0]
	L := len(n.p.weights)
	nA := n.sizes[L]
	n.batch = batch
	copy(n.obs, obs[:batch*in])
	for b := 0; b < batch; b++ {
		n.forwardOne(b)
	}
	return n.q[:batch*nA]
}

func (n *sqnNet) forwardOne(b int) {
	L := len(n.p.weights)
	T := n.nr.Timesteps
	th, leak := n.nr.Threshold, n.nr.Leak
	d := n.inputDrive(b)
	for l := range n.v {
		clear(n.v[l])
	}
	lastH := L - 2
	nLast := n.sizes[L-1]
	cnt := n.counts[b*nLast : (b+1)*nLast]
	clear(cnt)
	for t := 0; t < T; t++ {
		var prev []int32
		for l := 0; l < L-1; l++ {
			width := n.sizes[l+1]
			v := n.v[l]
			row := (b*T + t) * width
			ut := n.u[l][row : row+width]
			list := n.spk[l][row : row+width]
			k := 0
			if l == 0 {
				if leak == 1 {
					for i := range v {
						x := v[i] + d[i]
						v[i], ut[i] = x, x
						list[k] = int32(i)
						k += b2i(x >= th)
					}
				} else {
					for i := range v {
						x := leak*v[i] + d[i]
						v[i], ut[i] = x, x
						list[k] = int32(i)
						k += b2i(x >= th)
					}
				}
			} else {
				// Hidden layers have no bias: snn adds zeros, which is exact.
				for i := range v {
					x := v[i]
					if leak != 1 {
						x = leak * x
					}
					v[i], ut[i] = x, x
					list[k] = int32(i)
					k += b2i(x >= th)
				}
				addCols(v, n.wt[l], prev)
			}
			for _, i := range list[:k] {
				v[i] -= th
			}
			n.spkN[l][b*T+t] = int32(k)
			prev = list[:k]
			if l == lastH {
				for _, i := range prev {
					cnt[i]++
				}
			}
		}
		addCols(n.v[L-1], n.wt[L-1], prev)
	}
	nA := n.sizes[L]
	q := n.q[b*nA : (b+1)*nA]
	fT := float32(T)
	for o, a := range n.v[L-1] {
		q[o] = a / fT * fT // snn's membrane readout with OutputScale = T
	}
}

// inputDrive computes sample b's constant input current of the first
// layer, W_1 x + b_1, into its row of n.drive and returns that row.
func (n *sqnNet) inputDrive(b int) []float32 {
	in, h0 := n.sizes[0], n.sizes[1]
	x := n.obs[b*in : (b+1)*in]
	d := n.drive[b*h0 : (b+1)*h0]
	w0 := n.p.weights[0]
	for o := range d {
		row := w0[o*in : (o+1)*in]
		var sum float32
		for i, w := range row {
			sum += w * x[i]
		}
		d[o] = sum + n.p.bias0[o]
	}
	return d
}

// addCols adds column j of the (in, out) matrix wt to v for every spike j.
// gonum's Saxpy (SSE on amd64) with alpha 1 adds each element exactly as v[i] += c does (1*c is
// exact), so the result is bit-identical to snn's column additions.
func addCols(v, wt []float32, spikes []int32) {
	out := len(v)
	for _, j := range spikes {
		gonum.Implementation{}.Saxpy(out, 1, wt[int(j)*out:int(j)*out+out], 1, v, 1)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// surrogateGrad returns dS/dv at v for the spike S = H(v - θ).
func (n *sqnNet) surrogateGrad(v float32) float32 {
	x := v - n.nr.Threshold
	k := n.nr.SurrogateK
	if n.nr.Surrogate == SurrogateSigmoid {
		s := float32(1 / (1 + math.Exp(-float64(k*x))))
		return k * s * (1 - s)
	}
	if x < 0 {
		x = -x
	}
	d := 1 + k*x
	return 1 / (d * d)
}

// backward computes the gradients of the loss given dL/dQ (batch, actions)
// for the last forward, into n.grads (tensors() order).
func (n *sqnNet) backward(gQ []float32) [][]float32 {
	L := len(n.p.weights)
	T := n.nr.Timesteps
	B := n.batch
	th, leak := n.nr.Threshold, n.nr.Leak
	for _, g := range n.dwt {
		clear(g)
	}
	clear(n.grads[1])
	n.backwardOutput(gQ)
	// Hidden layers from the top down: the reverse-time recursion per sample,
	// then one matrix product for the spike gradients of the layer below.
	for l := L - 2; l >= 0; l-- {
		width := n.sizes[l+1]
		gs, u := n.gs[l], n.u[l]
		gv := n.gv[:width]
		for b := 0; b < B; b++ {
			clear(gv)
			if l == 0 {
				clear(n.gd)
			}
			for t := T - 1; t >= 0; t-- {
				row := (b*T + t) * width
				if l > 0 {
					// The input current of step t is added into v'(t).
					gc := n.gc[l][row : row+width]
					copy(gc, gv)
					if t < T-1 {
						prow := (b*T + t) * n.sizes[l]
						k := n.spkN[l-1][b*T+t]
						dw := n.dwt[l]
						for _, j := range n.spk[l-1][prow : prow+int(k)] {
							gonum.Implementation{}.Saxpy(width, 1, gv, 1, dw[int(j)*width:int(j)*width+width], 1)
						}
					}
				}
				ut, gst := u[row:row+width], gs[row:row+width]
				for i := range gv {
					sg := n.surrogateGrad(ut[i])
					gu := gv[i]*(1-th*sg) + gst[i]*sg
					gv[i] = leak * gu
					if l == 0 {
						n.gd[i] += gu
					}
				}
			}
			if l == 0 {
				in := n.sizes[0]
				x := n.obs[b*in : (b+1)*in]
				dw := n.dwt[0]
				for o, g := range n.gd {
					for i, xi := range x {
						dw[i*width+o] += g * xi
					}
					n.grads[1][o] += g
				}
			}
		}
		if l > 0 {
			// dL/ds^{l-1}(b, t) = W_lᵀ gc(b, t) for all rows at once.
			below := n.sizes[l]
			rows := B * T
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas32.General{Rows: rows, Cols: width, Stride: width, Data: n.gc[l][:rows*width]},
				blas32.General{Rows: width, Cols: below, Stride: below, Data: n.p.weights[l]},
				0, blas32.General{Rows: rows, Cols: below, Stride: below, Data: n.gs[l-1][:rows*below]})
		}
	}
	n.transposeWeightGrads()
	return n.grads
}

// backwardOutput adds the output layer's weight gradient and writes the
// last hidden layer's spike gradients at every step.
func (n *sqnNet) backwardOutput(gQ []float32) {
	L := len(n.p.weights)
	T := n.nr.Timesteps
	B := n.batch
	nA := n.sizes[L]
	// Output layer: Q = sum over steps of the last hidden layer's spikes
	// through W_L, so dL/dW_L[o][j] = gQ[o] * count[j] and every step's
	// spike gradient is W_Lᵀ gQ.
	nLast := n.sizes[L-1]
	wL := n.p.weights[L-1]
	gsTop := n.gs[L-2]
	for b := 0; b < B; b++ {
		g := gQ[b*nA : (b+1)*nA]
		cnt := n.counts[b*nLast : (b+1)*nLast]
		dw := n.dwt[L-1]
		for j, c := range cnt {
			if c != 0 {
				for o, go_ := range g {
					dw[j*nA+o] += go_ * c
				}
			}
		}
		row := gsTop[b*T*nLast : (b*T+1)*nLast]
		clear(row)
		for o, go_ := range g {
			if go_ != 0 {
				wrow := wL[o*nLast : (o+1)*nLast]
				for j, w := range wrow {
					row[j] += go_ * w
				}
			}
		}
		for t := 1; t < T; t++ {
			copy(gsTop[(b*T+t)*nLast:(b*T+t+1)*nLast], row)
		}
	}
}

// transposeWeightGrads writes the (in, out) weight gradients into n.grads
// as (out, in).
func (n *sqnNet) transposeWeightGrads() {
	L := len(n.p.weights)
	for l := 0; l < L; l++ {
		in, out := n.sizes[l], n.sizes[l+1]
		dst := n.grads[0]
		if l > 0 {
			dst = n.grads[l+1]
		}
		src := n.dwt[l]
		for o := 0; o < out; o++ {
			for i := 0; i < in; i++ {
				dst[o*in+i] = src[i*out+o]
			}
		}
	}
}
