package snn

import (
	"fmt"
	"math"
)

// ReadoutOutput says how a recurrent network's leaky readouts become its
// output: Softmax (class probabilities) or Identity (the readout signal).
type ReadoutOutput string

// Readout outputs of a Recurrent network.
const (
	OutputSoftmax  ReadoutOutput = "softmax"
	OutputIdentity ReadoutOutput = "identity"
)

// Recurrent is a recurrent population of LIF and adaptive-threshold LIF (ALIF)
// neurons with leaky-integrator readouts, in discrete time (one Step per dt),
// in float64. Per step t, for neuron j (NEST's eprop_iaf(_adapt)_bsshslm_2020
// order, see doc.go):
//
//	v_j  = Leak v_j + Σ_i Win_ji x_i + Σ_(i≠j) Wrec_ji z_i(t−1) − Threshold z_j(t−1)
//	a_j  = AdaptationDecay a_j + z_j(t−1);  A_j = Threshold + Adaptation_j a_j
//	z_j  = [v_j ≥ A_j] unless refractory; a spike blocks the next RefractorySteps−1 steps
//	y_k  = ReadoutLeak y_k + (1 − ReadoutLeak) Σ_j Wout_kj z_j
//
// Adaptation_j = 0 makes neuron j a plain LIF neuron. Weights are row-major
// (post, pre): InputWeights (Neurons, Inputs), RecurrentWeights (Neurons,
// Neurons) with a zero diagonal, OutputWeights (Outputs, Neurons). The
// simulator propagates spikes from transposed copies; call Refresh after
// changing any weight.
type Recurrent struct {
	Inputs, Neurons, Outputs int

	InputWeights     []float64
	RecurrentWeights []float64
	OutputWeights    []float64

	// Leak is e^(−dt/τ_m); Threshold the spike threshold v_th, also the amount
	// subtracted from the membrane after a spike.
	Leak, Threshold float64
	// RefractorySteps is the refractory period in steps including the spike
	// step (NEST's t_ref/dt); 0 or 1 means none.
	RefractorySteps int
	// AdaptationDecay is e^(−dt/τ_a); Adaptation the per-neuron threshold
	// increment β per unit of adaptation (0 for LIF neurons).
	AdaptationDecay float64
	Adaptation      []float64
	// ReadoutLeak is e^(−dt/τ_out) of the leaky readouts.
	ReadoutLeak float64
	Output      ReadoutOutput

	inT, recT, outT []float64 // transposed weights: (pre, post)
}

// Validate checks sizes, finiteness, the zero diagonal and the parameters.
func (n *Recurrent) Validate() error {
	switch {
	case n == nil:
		return fmt.Errorf("snn: no recurrent network")
	case n.Neurons <= 0:
		return fmt.Errorf("snn: recurrent network has %d neurons, want at least 1", n.Neurons)
	case n.Inputs <= 0:
		return fmt.Errorf("snn: recurrent network has %d inputs, want at least 1", n.Inputs)
	case n.Outputs <= 0:
		return fmt.Errorf("snn: recurrent network has %d readouts, want at least 1", n.Outputs)
	}
	for _, w := range []struct {
		name       string
		values     []float64
		rows, cols int
	}{
		{"input weights", n.InputWeights, n.Neurons, n.Inputs},
		{"recurrent weights", n.RecurrentWeights, n.Neurons, n.Neurons},
		{"output weights", n.OutputWeights, n.Outputs, n.Neurons},
		{"adaptation", n.Adaptation, n.Neurons, 1},
	} {
		if len(w.values) != w.rows*w.cols {
			return fmt.Errorf("snn: recurrent network %s: %d values, want %d×%d = %d", w.name, len(w.values), w.rows, w.cols, w.rows*w.cols)
		}
		for i, v := range w.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("snn: recurrent network %s: element (%d, %d) is %v, want a finite value", w.name, i/w.cols, i%w.cols, v)
			}
		}
	}
	for j := 0; j < n.Neurons; j++ {
		if d := n.RecurrentWeights[j*n.Neurons+j]; d != 0 {
			return fmt.Errorf("snn: recurrent network recurrent weights: diagonal element (%d, %d) is %v, want 0 (no self-connections)", j, j, d)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"leak", n.Leak}, {"adaptation decay", n.AdaptationDecay}, {"readout leak", n.ReadoutLeak}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("snn: recurrent network %s is %v, want a value in [0, 1]", p.name, p.v)
		}
	}
	if !(n.Threshold > 0) || math.IsInf(n.Threshold, 0) {
		return fmt.Errorf("snn: recurrent network threshold is %v, want a finite value above 0", n.Threshold)
	}
	if n.RefractorySteps < 0 {
		return fmt.Errorf("snn: recurrent network refractory period is %d steps, want 0 or more", n.RefractorySteps)
	}
	if n.Output != OutputSoftmax && n.Output != OutputIdentity {
		return fmt.Errorf("snn: recurrent network output %q, want %q or %q", n.Output, OutputSoftmax, OutputIdentity)
	}
	return nil
}

// Refresh rebuilds the transposed weight copies the simulator propagates
// spikes from; call it after changing weights (NewRecurrentState calls it).
func (n *Recurrent) Refresh() {
	n.inT = transposeInto(n.inT, n.InputWeights, n.Neurons, n.Inputs)
	n.recT = transposeInto(n.recT, n.RecurrentWeights, n.Neurons, n.Neurons)
	n.outT = transposeInto(n.outT, n.OutputWeights, n.Outputs, n.Neurons)
}

func transposeInto(dst, src []float64, rows, cols int) []float64 {
	if cap(dst) < len(src) {
		dst = make([]float64, len(src))
	}
	dst = dst[:len(src)]
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			dst[c*rows+r] = src[r*cols+c]
		}
	}
	return dst
}

// RecurrentState is the caller-owned state of one sequence being simulated:
// after NewRecurrentState, Reset and Step allocate nothing. The exported
// slices describe the last step and must not be modified.
type RecurrentState struct {
	net *Recurrent

	// V is the membrane after integration; ThresholdNow the threshold A of the
	// step; Z the spikes (0 or 1); Blocked marks neurons that were refractory
	// during the step (they could not spike); Y the readout signals.
	V, ThresholdNow, Z []float64
	Blocked            []bool
	Y                  []float64
	// Fired lists the neurons that spiked this step, ascending.
	Fired []int32
	// Step is the index of the next step since the last Reset.
	Step int

	adaptation []float64
	refractory []int32
	prevFired  []int32
	// activeInputs lists the nonzero inputs of the step, ascending.
	activeInputs []int32
	inputDrive   []float64
	recDrive     []float64
	readout      []float64

	Counters RecurrentCounters
}

// RecurrentCounters accumulates the cost of the steps a state has simulated.
type RecurrentCounters struct {
	Steps       int64
	InputSpikes int64 // nonzero input values
	Spikes      int64 // recurrent neurons' spikes
	// SynOps counts synaptic operations: a nonzero input costs Neurons, a
	// recurrent spike Neurons−1 recurrent plus Outputs readout synapses.
	SynOps int64
}

// NewRecurrentState validates n, refreshes its transposed weights and
// returns a reset state for it.
func NewRecurrentState(n *Recurrent) (*RecurrentState, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	n.Refresh()
	s := &RecurrentState{
		net:          n,
		V:            make([]float64, n.Neurons),
		ThresholdNow: make([]float64, n.Neurons),
		Z:            make([]float64, n.Neurons),
		Blocked:      make([]bool, n.Neurons),
		Y:            make([]float64, n.Outputs),
		Fired:        make([]int32, 0, n.Neurons),
		adaptation:   make([]float64, n.Neurons),
		refractory:   make([]int32, n.Neurons),
		prevFired:    make([]int32, 0, n.Neurons),
		activeInputs: make([]int32, 0, n.Inputs),
		inputDrive:   make([]float64, n.Neurons),
		recDrive:     make([]float64, n.Neurons),
		readout:      make([]float64, n.Outputs),
	}
	s.Reset()
	return s, nil
}

// Reset sets every state variable to zero (the start of a sequence); the
// counters are kept.
func (s *RecurrentState) Reset() {
	clear(s.V)
	clear(s.ThresholdNow)
	clear(s.Z)
	clear(s.Blocked)
	clear(s.Y)
	clear(s.adaptation)
	clear(s.refractory)
	s.Fired = s.Fired[:0]
	s.prevFired = s.prevFired[:0]
	s.Step = 0
}

// Step advances the network by one step with input x (Inputs values; spikes
// are 0/1, zeros cost nothing). It panics if len(x) != Inputs.
func (n *Recurrent) Step(s *RecurrentState, x []float64) {
	if len(x) != n.Inputs {
		panic(fmt.Sprintf("snn: recurrent step got %d inputs, want %d", len(x), n.Inputs))
	}
	N := n.Neurons
	in := s.inputDrive
	clear(in)
	active, analog := s.activeInputs[:0], false
	for i, xi := range x {
		if xi != 0 {
			active = append(active, int32(i))
			analog = analog || xi != 1
		}
	}
	s.activeInputs = active
	if analog {
		for _, i := range active {
			xi := x[i]
			col := n.inT[int(i)*N : int(i)*N+N]
			for j, w := range col {
				in[j] += w * xi
			}
		}
	} else {
		// Spikes add whole columns, in input order (the SIMD kernel adds
		// element-wise, bit-identical to the scalar loop).
		addColumns64(in, n.inT, active)
	}
	s.Counters.InputSpikes += int64(len(active))
	s.Counters.SynOps += int64(len(active)) * int64(N)
	rec := s.recDrive
	clear(rec)
	// The previous step's spikes become this step's presynaptic input.
	s.prevFired, s.Fired = s.Fired, s.prevFired[:0]
	addColumns64(rec, n.recT, s.prevFired)
	v := s.V
	a, zPrev, th, blocked, refr := s.adaptation[:len(v)], s.Z[:len(v)], s.ThresholdNow[:len(v)], s.Blocked[:len(v)], s.refractory[:len(v)]
	in, rec = in[:len(v)], rec[:len(v)]
	beta := n.Adaptation[:len(v)]
	for j := range v {
		v[j] = n.Leak*v[j] + (in[j] + rec[j]) - n.Threshold*zPrev[j]
		a[j] = n.AdaptationDecay*a[j] + zPrev[j]
		th[j] = n.Threshold + beta[j]*a[j]
		blocked[j] = refr[j] > 0
		z := 0.0
		if !blocked[j] && v[j] >= th[j] {
			z = 1
			refr[j] = int32(n.RefractorySteps)
			s.Fired = append(s.Fired, int32(j))
		}
		if refr[j] > 0 {
			refr[j]--
		}
		zPrev[j] = z // s.Z now holds this step's spikes
	}
	out := s.readout
	clear(out)
	K := n.Outputs
	for _, j := range s.Fired {
		col := n.outT[int(j)*K : int(j)*K+K]
		for k, w := range col {
			out[k] += w
		}
	}
	for k := range s.Y {
		s.Y[k] = n.ReadoutLeak*s.Y[k] + (1-n.ReadoutLeak)*out[k]
	}
	nf := int64(len(s.Fired))
	s.Counters.Spikes += nf
	s.Counters.SynOps += nf * int64(N-1+K)
	s.Counters.Steps++
	s.Step++
}

// OutputInto writes the network's output for the current readout signals
// into dst (Outputs values): softmax probabilities or the signals themselves.
func (n *Recurrent) OutputInto(dst []float64, s *RecurrentState) {
	if n.Output == OutputIdentity {
		copy(dst, s.Y)
		return
	}
	Softmax(dst, s.Y)
}

// Softmax writes exp(y_k)/Σ exp(y) into dst, shifted by the maximum so that
// large signals cannot overflow.
func Softmax(dst, y []float64) {
	m := math.Inf(-1)
	for _, v := range y {
		m = max(m, v)
	}
	sum := 0.0
	for k, v := range y {
		dst[k] = math.Exp(v - m)
		sum += dst[k]
	}
	for k := range dst {
		dst[k] /= sum
	}
}

// RunSequence resets s and simulates steps steps of inputs (steps×Inputs,
// row-major), writing the readout signals of every step into signals
// (steps×Outputs) when it is non-nil. It returns the recurrent spikes.
func (n *Recurrent) RunSequence(s *RecurrentState, inputs []float64, steps int, signals []float64) int64 {
	if len(inputs) != steps*n.Inputs {
		panic(fmt.Sprintf("snn: recurrent sequence of %d steps needs %d input values, got %d", steps, steps*n.Inputs, len(inputs)))
	}
	s.Reset()
	before := s.Counters.Spikes
	for t := 0; t < steps; t++ {
		n.Step(s, inputs[t*n.Inputs:(t+1)*n.Inputs])
		if signals != nil {
			copy(signals[t*n.Outputs:(t+1)*n.Outputs], s.Y)
		}
	}
	return s.Counters.Spikes - before
}
