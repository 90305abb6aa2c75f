package learn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/snn"
)

// EvidenceNetwork is the shape of the network NEST's e-prop tutorial trains
// on evidence accumulation: LIF then ALIF neurons, two softmax readouts.
type EvidenceNetwork struct {
	LIF, ALIF int
	// TauMembraneMS, TauAdaptationMS and TauReadoutMS at dt = 1 ms.
	TauMembraneMS, TauAdaptationMS, TauReadoutMS float64
	Threshold                                    float64
	RefractorySteps                              int
	// AdaptationStrength is the 1.7 of β = 1.7 (1 − ρ)/(1 − α).
	AdaptationStrength float64
}

// NESTEvidenceNetwork returns NEST's settings: 50 LIF + 50 ALIF, τ_m 20 ms,
// τ_a 2000 ms, τ_out 20 ms, v_th 0.6, refractory 5 steps.
func NESTEvidenceNetwork() EvidenceNetwork {
	return EvidenceNetwork{
		LIF: 50, ALIF: 50, TauMembraneMS: 20, TauAdaptationMS: 2000, TauReadoutMS: 20,
		Threshold: 0.6, RefractorySteps: 5, AdaptationStrength: 1.7,
	}
}

// New draws the initial weights as NEST's tutorial does (input and recurrent
// N(0, 1)/√fan-in, zero diagonal; readout Glorot-uniform; feedback N(0, 1))
// from rng, for inputs inputs and outputs readouts, and returns the network
// and its feedback weights (neurons × outputs).
func (s EvidenceNetwork) New(rng *rand.Rand, inputs, outputs int) (*snn.Recurrent, []float64, error) {
	n := s.LIF + s.ALIF
	if s.LIF < 0 || s.ALIF < 0 || n == 0 {
		return nil, nil, fmt.Errorf("learn: e-prop network with %d LIF and %d ALIF neurons, want at least 1 neuron in all", s.LIF, s.ALIF)
	}
	if inputs <= 0 || outputs <= 0 {
		return nil, nil, fmt.Errorf("learn: e-prop network with %d inputs and %d readouts, want at least 1 of each", inputs, outputs)
	}
	for _, tau := range []float64{s.TauMembraneMS, s.TauAdaptationMS, s.TauReadoutMS} {
		if !(tau > 0) || math.IsInf(tau, 0) {
			return nil, nil, fmt.Errorf("learn: e-prop time constants %v, %v, %v ms, want finite values above 0", s.TauMembraneMS, s.TauAdaptationMS, s.TauReadoutMS)
		}
	}
	alpha, rho := math.Exp(-1/s.TauMembraneMS), math.Exp(-1/s.TauAdaptationMS)
	net := &snn.Recurrent{
		Inputs: inputs, Neurons: n, Outputs: outputs,
		InputWeights: make([]float64, n*inputs), RecurrentWeights: make([]float64, n*n),
		OutputWeights: make([]float64, outputs*n), Adaptation: make([]float64, n),
		Leak: alpha, Threshold: s.Threshold, RefractorySteps: s.RefractorySteps,
		AdaptationDecay: rho, ReadoutLeak: math.Exp(-1 / s.TauReadoutMS), Output: snn.OutputSoftmax,
	}
	beta := s.AdaptationStrength * (1 - rho) / (1 - alpha)
	for j := s.LIF; j < n; j++ {
		net.Adaptation[j] = beta
	}
	for i := range net.InputWeights {
		net.InputWeights[i] = rng.NormFloat64() / math.Sqrt(float64(inputs))
	}
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if i != j {
				net.RecurrentWeights[j*n+i] = rng.NormFloat64() / math.Sqrt(float64(n))
			}
		}
	}
	limit := math.Sqrt(3 / max(1, float64(n+outputs)/2))
	for i := range net.OutputWeights {
		net.OutputWeights[i] = (2*rng.Float64() - 1) * limit
	}
	feedback := make([]float64, n*outputs)
	for i := range feedback {
		feedback[i] = rng.NormFloat64()
	}
	if err := net.Validate(); err != nil {
		return nil, nil, fmt.Errorf("learn: %w", err)
	}
	return net, feedback, nil
}

// EvidenceBatches draws batches of evidence-accumulation trials from a
// seeded source, reusing its buffers: a Batch it returns is overwritten by
// the next call.
type EvidenceBatches struct {
	Task  env.EvidenceAccumulation
	rng   *rand.Rand
	batch Batch
	data  []float64
	cues  [][]int
}

// NewEvidenceBatches checks task and returns a generator drawing from rng.
func NewEvidenceBatches(task env.EvidenceAccumulation, rng *rand.Rand) (*EvidenceBatches, error) {
	if err := task.Validate(); err != nil {
		return nil, err
	}
	return &EvidenceBatches{Task: task, rng: rng}, nil
}

// Next draws size trials.
func (g *EvidenceBatches) Next(size int) *Batch {
	per := g.Task.Steps() * g.Task.Inputs
	if len(g.data) < size*per {
		g.data = make([]float64, size*per)
	}
	for len(g.cues) < size {
		g.cues = append(g.cues, make([]int, g.Task.Cues))
	}
	g.batch.Steps = g.Task.Steps()
	g.batch.Sequences = g.batch.Sequences[:0]
	for s := 0; s < size; s++ {
		x := g.data[s*per : (s+1)*per]
		class := g.Task.Generate(g.rng, x, g.cues[s])
		g.batch.Sequences = append(g.batch.Sequences, Sequence{Inputs: x, Class: class})
	}
	return &g.batch
}

// Cues returns the cue sides of sequence s of the last batch.
func (g *EvidenceBatches) Cues(s int) []int { return g.cues[s] }
