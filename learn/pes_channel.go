package learn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/nef"
)

// ChannelConfig describes Nengo's canonical PES network: an input u drives
// ensemble Pre; a connection Pre → Post starts from zero decoders and learns
// by PES; the error is decoded Post − decoded Pre (a node), fed to the rule
// through a synapse. Seed fixes every random draw.
type ChannelConfig struct {
	Dt           float64 `json:"dt"`            // s (Nengo: 0.001)
	Dimensions   int     `json:"dimensions"`    // of u and of both ensembles
	PreNeurons   int     `json:"pre_neurons"`   // Nengo example: 50
	PostNeurons  int     `json:"post_neurons"`  // Nengo example: 50
	LearningRate float64 `json:"learning_rate"` // PES (Nengo default 1e-4)
	PreTau       float64 `json:"pre_tau"`       // PES pre_synapse (s, Nengo default 0.005)
	SynapseTau   float64 `json:"synapse_tau"`   // every connection's synapse (s, Nengo default 0.005)
	Reg          float64 `json:"reg"`           // decoder regularisation (Nengo default 0.1)
	Seed         uint64  `json:"seed"`
}

// DefaultChannelConfig is the Nengo learning example's network: 1-D, 50 and
// 50 neurons, PES 1e-4, 5 ms synapses, dt 1 ms.
func DefaultChannelConfig() ChannelConfig {
	return ChannelConfig{Dt: 0.001, Dimensions: 1, PreNeurons: 50, PostNeurons: 50,
		LearningRate: 1e-4, PreTau: 0.005, SynapseTau: 0.005, Reg: 0.1}
}

// Check reports the first invalid setting.
func (c ChannelConfig) Check() error {
	switch {
	case !(c.Dt > 0) || math.IsInf(c.Dt, 0):
		return fmt.Errorf("learn: channel: dt %v s, want > 0", c.Dt)
	case c.Dimensions <= 0 || c.Dimensions > 64:
		return fmt.Errorf("learn: channel: %d dimensions, want 1 to 64", c.Dimensions)
	case c.PreNeurons <= 0 || c.PreNeurons > 100000:
		return fmt.Errorf("learn: channel: %d pre neurons, want 1 to 100000", c.PreNeurons)
	case c.PostNeurons <= 0 || c.PostNeurons > 100000:
		return fmt.Errorf("learn: channel: %d post neurons, want 1 to 100000", c.PostNeurons)
	case !(c.PreTau >= 0) || math.IsInf(c.PreTau, 0):
		return fmt.Errorf("learn: channel: PES pre synapse %v s, want >= 0", c.PreTau)
	case !(c.SynapseTau >= 0) || math.IsInf(c.SynapseTau, 0):
		return fmt.Errorf("learn: channel: synapse %v s, want >= 0", c.SynapseTau)
	case !(c.Reg >= 0) || math.IsInf(c.Reg, 0):
		return fmt.Errorf("learn: channel: decoder regularisation %v, want >= 0", c.Reg)
	}
	return PES{LearningRate: c.LearningRate}.Check()
}

// Channel is a built channel network and its simulation state.
type Channel struct {
	Config    ChannelConfig
	Pre, Post *nef.Ensemble
	// PreToError and PostToError are the decoders (D, n) of the two fixed
	// connections into the error node, transforms included (Pre's carries
	// the −1 of "post − pre").
	PreToError, PostToError []float64
	// Weights are the learned decoders (D, n_pre) of Pre → Post.
	Weights []float64
	// InitialPre and InitialPost are the starting voltages Reset restores.
	InitialPre, InitialPost []float64
	// Learning switches PES on (Run/Step add its change every step).
	Learning bool

	rule              PES
	synapse, pesInput nef.Lowpass
	preState          *nef.LIFState
	postState         *nef.LIFState

	// Per-step values, valid after Step: currents and outputs (1/dt) of both
	// ensembles, the error node's value, the error PES receives, PES's
	// filtered pre activities (after the step's update).
	PreJ, PostJ, PreOut, PostOut  []float64
	ErrorNode, Error, PreFiltered []float64

	// synapse states (values read in the next step)
	inputFiltered, learnedFiltered, preErrFiltered, postErrFiltered, errFiltered []float64
	scratch                                                                      []float64
}

// NewChannel generates the ensembles, solves the error decoders and draws
// the initial voltages from cfg.Seed; the learned decoders start at zero.
func NewChannel(cfg ChannelConfig) (*Channel, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5e5))
	d := cfg.Dimensions
	pre, err := nef.NewEnsemble(nef.DefaultEnsembleSpec(cfg.PreNeurons, d), rng)
	if err != nil {
		return nil, fmt.Errorf("learn: channel: pre: %w", err)
	}
	post, err := nef.NewEnsemble(nef.DefaultEnsembleSpec(cfg.PostNeurons, d), rng)
	if err != nil {
		return nil, fmt.Errorf("learn: channel: post: %w", err)
	}
	decode := func(e *nef.Ensemble, sign float64) ([]float64, error) {
		pts := nef.UniformBallPoints(nef.DefaultEvalPoints(e.N, d), d, rng)
		targets := make([]float64, len(pts))
		for i, p := range pts {
			targets[i] = sign * p
		}
		return nef.SolveDecoders(e, pts, targets, d, cfg.Reg)
	}
	preDec, err := decode(pre, -1)
	if err != nil {
		return nil, fmt.Errorf("learn: channel: pre decoders: %w", err)
	}
	postDec, err := decode(post, 1)
	if err != nil {
		return nil, fmt.Errorf("learn: channel: post decoders: %w", err)
	}
	c, err := NewChannelFrom(cfg, pre, post, preDec, postDec, make([]float64, d*pre.N))
	if err != nil {
		return nil, err
	}
	c.InitialPre = pre.InitialVoltages(rng)
	c.InitialPost = post.InitialVoltages(rng)
	c.Reset()
	return c, nil
}

// NewChannelFrom assembles a channel from given ensembles, error decoders
// and starting weights (copied); initial voltages are zero until set.
func NewChannelFrom(cfg ChannelConfig, pre, post *nef.Ensemble, preToError, postToError, weights []float64) (*Channel, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	d := cfg.Dimensions
	if pre.D != d || post.D != d {
		return nil, fmt.Errorf("learn: channel: ensembles of %d and %d dimensions, config says %d", pre.D, post.D, d)
	}
	if len(preToError) != d*pre.N || len(postToError) != d*post.N || len(weights) != d*pre.N {
		return nil, fmt.Errorf("learn: channel: decoders of %d (pre → error), %d (post → error), %d (weights) values, want %d, %d, %d",
			len(preToError), len(postToError), len(weights), d*pre.N, d*post.N, d*pre.N)
	}
	syn, err := nef.NewLowpass(cfg.SynapseTau, cfg.Dt)
	if err != nil {
		return nil, err
	}
	pesIn, err := nef.NewLowpass(cfg.PreTau, cfg.Dt)
	if err != nil {
		return nil, err
	}
	clone := func(s []float64) []float64 { return append([]float64(nil), s...) }
	c := &Channel{Config: cfg, Pre: pre, Post: post, PreToError: clone(preToError), PostToError: clone(postToError),
		Weights: clone(weights), InitialPre: make([]float64, pre.N), InitialPost: make([]float64, post.N),
		Learning: true, rule: PES{LearningRate: cfg.LearningRate}, synapse: syn, pesInput: pesIn,
		preState: nef.NewLIFState(pre.N), postState: nef.NewLIFState(post.N),
		PreJ: make([]float64, pre.N), PostJ: make([]float64, post.N), PreOut: make([]float64, pre.N), PostOut: make([]float64, post.N),
		ErrorNode: make([]float64, d), Error: make([]float64, d), PreFiltered: make([]float64, pre.N),
		inputFiltered: make([]float64, d), learnedFiltered: make([]float64, d), preErrFiltered: make([]float64, d),
		postErrFiltered: make([]float64, d), errFiltered: make([]float64, d), scratch: make([]float64, d)}
	return c, nil
}

// Reset restores the initial voltages and clears refractory times and every
// synapse; the weights are kept.
func (c *Channel) Reset() {
	copy(c.preState.Voltage, c.InitialPre)
	copy(c.postState.Voltage, c.InitialPost)
	for _, s := range [][]float64{c.preState.Refractory, c.postState.Refractory, c.inputFiltered, c.learnedFiltered,
		c.preErrFiltered, c.postErrFiltered, c.errFiltered, c.PreFiltered, c.ErrorNode, c.Error} {
		clear(s)
	}
}

// Decoded is Post's decoded value read in the coming step: its decoders'
// product with its spikes through the synapse (what a probe on Post with
// the connection synapse shows, and what the error node receives).
func (c *Channel) Decoded() []float64 { return c.postErrFiltered }

// decodeInto writes the product of decoders (D, n) and outputs into dst.
func decodeInto(dst, decoders, outputs []float64) {
	n := len(outputs)
	for o := range dst {
		row := decoders[o*n : (o+1)*n]
		s := 0.0
		for i, a := range outputs {
			if a != 0 {
				s += row[i] * a
			}
		}
		dst[o] = s
	}
}

// Step advances the network by one dt under input u, in Nengo's order:
// both ensembles fire from the synapse states of the previous step, the
// error node sums its synapses, then every synapse takes this step's values
// and, with learning on, PES adds −lr·dt/n·error ⊗ filtered pre activities
// (the error read this step, the activities after this step's update).
func (c *Channel) Step(u []float64) {
	d := c.Config.Dimensions
	if len(u) != d {
		panic(fmt.Sprintf("learn: Channel.Step: input of %d values for %d dimensions", len(u), d))
	}
	dt := c.Config.Dt
	c.Pre.Current(c.PreJ, c.inputFiltered)
	c.Pre.Neuron.Step(dt, c.PreJ, c.PreOut, c.preState)
	c.Post.Current(c.PostJ, c.learnedFiltered)
	c.Post.Neuron.Step(dt, c.PostJ, c.PostOut, c.postState)
	for k := 0; k < d; k++ {
		c.ErrorNode[k] = c.postErrFiltered[k] + c.preErrFiltered[k]
	}
	copy(c.Error, c.errFiltered)

	c.synapse.Step(c.inputFiltered, u)
	decodeInto(c.scratch, c.Weights, c.PreOut)
	c.synapse.Step(c.learnedFiltered, c.scratch)
	decodeInto(c.scratch, c.PostToError, c.PostOut)
	c.synapse.Step(c.postErrFiltered, c.scratch)
	decodeInto(c.scratch, c.PreToError, c.PreOut)
	c.synapse.Step(c.preErrFiltered, c.scratch)
	c.synapse.Step(c.errFiltered, c.ErrorNode)
	c.pesInput.Step(c.PreFiltered, c.PreOut)
	if c.Learning {
		c.rule.UpdateDecoders(c.Weights, c.Error, c.PreFiltered, dt)
	}
}
