package snn

import "math/rand/v2"

// StateOf is the caller-owned simulation state of up to Batch samples:
// membranes, per-neuron spike counts of the last decision, scratch space,
// counters and the optional recorder. One State per goroutine.
type StateOf[F Float] struct {
	// CarryMembrane keeps membranes (and the integrator) from the previous
	// decision of the same sample instead of resetting them to v(0). Spike
	// counts are always per decision.
	CarryMembrane bool
	// Source feeds Poisson encoding; required for it, unused otherwise.
	Source *rand.PCG
	// Recorder, when non-nil, receives every spike event.
	Recorder *Recorder
	// Counters accumulate over all runs until ResetCounters.
	Counters Counters

	net   *NetworkOf[F]
	batch int

	membrane   [][]F     // per layer: batch*out (the integrator's accumulator for the last layer)
	counts     [][]int32 // per layer: batch*out spikes in the last decision
	spikes     [][]int32 // per layer: indices of the neurons that fired this step
	views      [][]F     // per layer: the membranes of the sample being simulated
	countViews [][]int32 // per layer: its spike counts
	input      []F       // batch*in: the Rate encoder's membranes
	inPos      []int32   // inputs with a positive spike this step
	inNeg      []int32   // inputs with a negative spike this step
	// negativeInput: some input current of this decision is negative.
	negativeInput bool
	drive         []F       // out of layer 0: W x + b for Analog input
	current       []F       // in: Gain*x for Rate input
	prob          []float64 // in: Poisson spike probabilities of the current sample
	// lock is RunBatch's lockstep scratch (nil where it cannot run).
	lock *lockstepOf[F]
}

// State is the float32 state of the default Network.
type State = StateOf[float32]

// Counters accumulates the cost of the runs a State has made. Divide by
// Decisions for per-decision figures.
type Counters struct {
	Decisions int64
	Steps     int64
	// InputSpikes counts Rate and Poisson input spikes (either sign).
	InputSpikes int64
	// Spikes counts the spikes of each layer (index as Network.Layers).
	Spikes []int64
	// SynOps counts synaptic operations: a spike of a neuron with fan-out k
	// (input spikes included) costs k.
	SynOps int64
	// InputMACs counts the multiply-accumulates of the Analog drive: in*out
	// of the first layer per step (the current is recomputed once per
	// decision, but a neuromorphic chip would pay for it every step).
	InputMACs int64
}

// TotalSpikes is the number of spikes of all layers (input spikes excluded).
func (c *Counters) TotalSpikes() int64 {
	var s int64
	for _, v := range c.Spikes {
		s += v
	}
	return s
}

// SpikeEvent is one spike: of neuron Neuron in layer Layer (-1 for the input
// encoder) at step Step of the decision of batch sample Sample. Negative is set
// for the negative spikes of signed input encodings.
type SpikeEvent struct {
	Sample, Step, Layer, Neuron int32
	Negative                    bool
}

// Recorder collects spike events into Events up to its capacity, which the
// caller preallocates (make([]SpikeEvent, 0, n)); events beyond it are only
// counted in Dropped, so recording never allocates.
type Recorder struct {
	Events  []SpikeEvent
	Dropped int64
}

// Reset empties the recorder, keeping its capacity.
func (r *Recorder) Reset() { r.Events, r.Dropped = r.Events[:0], 0 }

func (r *Recorder) add(e SpikeEvent) {
	if len(r.Events) < cap(r.Events) {
		r.Events = append(r.Events, e)
	} else {
		r.Dropped++
	}
}

// NewState returns a state for runs of up to batch samples (batch >= 1).
func (n *NetworkOf[F]) NewState(batch int) *StateOf[F] {
	if batch < 1 {
		panic("snn: NewState: batch must be >= 1")
	}
	in := n.InputSize()
	s := &StateOf[F]{net: n, batch: batch,
		input: make([]F, batch*in), inPos: make([]int32, in), inNeg: make([]int32, in),
		drive: make([]F, n.layers[0].out), current: make([]F, in), prob: make([]float64, in)}
	for _, l := range n.layers {
		s.membrane = append(s.membrane, make([]F, batch*l.out))
		s.counts = append(s.counts, make([]int32, batch*l.out))
		s.spikes = append(s.spikes, make([]int32, l.out))
	}
	s.views = make([][]F, len(n.layers))
	s.countViews = make([][]int32, len(n.layers))
	s.Counters.Spikes = make([]int64, len(n.layers))
	if batch >= lockMinBatch && n.Input.Encoding != Poisson && lockstepPays(n) {
		s.lock = newLockstep(n, true)
	}
	s.Reset()
	return s
}

// Batch is the largest batch the state holds.
func (s *StateOf[F]) Batch() int { return s.batch }

// Reset puts every sample's membranes back to v(0) (it matters only with
// CarryMembrane; otherwise every decision starts from v(0) anyway).
func (s *StateOf[F]) Reset() {
	for sample := 0; sample < s.batch; sample++ {
		s.initMembranes(sample)
	}
}

// initMembranes puts one sample's neurons and input encoder at v(0).
func (s *StateOf[F]) initMembranes(sample int) {
	n := s.net
	for l := range n.layers {
		c := &n.layers[l]
		copy(s.membrane[l][sample*c.out:(sample+1)*c.out], c.initial)
	}
	in := n.InputSize()
	v0 := n.Input.InitialMembrane * n.Input.Threshold
	enc := s.input[sample*in : (sample+1)*in]
	for j := range enc {
		enc[j] = v0
	}
}

// ResetCounters zeroes the counters.
func (s *StateOf[F]) ResetCounters() {
	spikes := s.Counters.Spikes
	clear(spikes)
	s.Counters = Counters{Spikes: spikes}
}

// Counts returns the per-neuron spike counts of layer in the last decision of
// sample (shared with the state; copy to keep).
func (s *StateOf[F]) Counts(sample, layer int) []int32 {
	w := s.net.layers[layer].out
	return s.counts[layer][sample*w : (sample+1)*w]
}

// Membrane returns the membranes of layer after the last decision of sample
// (for a Membrane readout, the last layer holds the accumulated input). Shared
// with the state.
func (s *StateOf[F]) Membrane(sample, layer int) []F {
	w := s.net.layers[layer].out
	return s.membrane[layer][sample*w : (sample+1)*w]
}
