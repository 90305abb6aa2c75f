package learn

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/snn"
)

// EvidenceRunConfig is a whole e-prop training run on evidence accumulation.
type EvidenceRunConfig struct {
	Seed       uint64                   `json:"seed"`
	Iterations int                      `json:"iterations"`
	Batch      int                      `json:"batch"`
	Network    EvidenceNetwork          `json:"network"`
	Task       env.EvidenceAccumulation `json:"task"`
	Eprop      EpropConfig              `json:"eprop"`
}

// DefaultEvidenceRun is NEST's test network and task, scaled to batch 32
// and 200 iterations.
func DefaultEvidenceRun() EvidenceRunConfig {
	return EvidenceRunConfig{Seed: 1, Iterations: 200, Batch: 32, Network: NESTEvidenceNetwork(),
		Task: env.NESTEvidenceAccumulation(), Eprop: NESTEpropConfig()}
}

// Validate checks the run's sizes and settings.
func (c EvidenceRunConfig) Validate() error {
	if c.Iterations < 0 || c.Iterations > 1e7 {
		return fmt.Errorf("learn: %d iterations, want 0 to 10000000", c.Iterations)
	}
	if c.Batch < 1 || c.Batch > 1<<14 {
		return fmt.Errorf("learn: batch of %d, want 1 to %d", c.Batch, 1<<14)
	}
	if n := c.Network.LIF + c.Network.ALIF; c.Network.LIF < 0 || c.Network.ALIF < 0 || n < 1 || n > 1<<14 {
		return fmt.Errorf("learn: %d LIF and %d ALIF neurons, want 1 to %d in all", c.Network.LIF, c.Network.ALIF, 1<<14)
	}
	if err := c.Task.Validate(); err != nil {
		return err
	}
	if c.Task.Steps() > 1e6 {
		return fmt.Errorf("learn: trials of %d steps, want at most 1000000", c.Task.Steps())
	}
	if c.Eprop.LossWindow != c.Task.RecallSteps {
		return fmt.Errorf("learn: loss window of %d steps, want the task's %d recall steps", c.Eprop.LossWindow, c.Task.RecallSteps)
	}
	return c.Eprop.validate()
}

// IterationRecord is one training iteration's figures.
type IterationRecord struct {
	Iteration int     `json:"iteration"`
	Loss      float64 `json:"loss"`
	Accuracy  float64 `json:"accuracy"`
	// SpikesPerTrial and SynOpsPerTrial average over the batch.
	SpikesPerTrial float64 `json:"spikes_per_trial"`
	SynOpsPerTrial float64 `json:"synops_per_trial"`
	Seconds        float64 `json:"seconds"`
}

// EvidenceRun trains a network on evidence accumulation one iteration at a
// time. Iteration i draws its batch from PCG(Seed, i+1) and the initial
// weights come from PCG(Seed, 0), so a run resumed at any iteration from
// its weights and Adam state continues bit-identically.
type EvidenceRun struct {
	Config  EvidenceRunConfig
	Trainer *Eprop
	// Iteration is the number of iterations done.
	Iteration int
	History   []IterationRecord

	// The batch generator and its source, re-seeded for every batch so that
	// trial buffers are reused.
	source *rand.PCG
	gen    *EvidenceBatches
}

// batches re-seeds the generator to stream (Seed, stream).
func (r *EvidenceRun) batches(stream uint64) (*EvidenceBatches, error) {
	if r.gen == nil {
		r.source = rand.NewPCG(0, 0)
		gen, err := NewEvidenceBatches(r.Config.Task, rand.New(r.source))
		if err != nil {
			return nil, err
		}
		r.gen = gen
	}
	r.source.Seed(r.Config.Seed, stream)
	return r.gen, nil
}

// NewEvidenceRun draws the initial network from the seed.
func NewEvidenceRun(cfg EvidenceRunConfig) (*EvidenceRun, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	net, feedback, err := cfg.Network.New(rand.New(rand.NewPCG(cfg.Seed, 0)), cfg.Task.Inputs, 2)
	if err != nil {
		return nil, err
	}
	return ResumeEvidenceRun(cfg, net, feedback, 0)
}

// ResumeEvidenceRun continues a run from a network and feedback after done
// iterations; set the trainer's Adam state and History afterwards.
func ResumeEvidenceRun(cfg EvidenceRunConfig, net *snn.Recurrent, feedback []float64, done int) (*EvidenceRun, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if net.Inputs != cfg.Task.Inputs || net.Outputs != 2 || net.Neurons != cfg.Network.LIF+cfg.Network.ALIF {
		return nil, fmt.Errorf("learn: network of %d inputs, %d neurons, %d readouts does not fit the run's %d inputs, %d neurons, 2 readouts",
			net.Inputs, net.Neurons, net.Outputs, cfg.Task.Inputs, cfg.Network.LIF+cfg.Network.ALIF)
	}
	tr, err := NewEprop(net, feedback, cfg.Eprop)
	if err != nil {
		return nil, err
	}
	return &EvidenceRun{Config: cfg, Trainer: tr, Iteration: done}, nil
}

// Step runs the next iteration.
func (r *EvidenceRun) Step() (IterationRecord, error) {
	gen, err := r.batches(uint64(r.Iteration) + 1)
	if err != nil {
		return IterationRecord{}, err
	}
	start := time.Now()
	res, err := r.Trainer.Iterate(gen.Next(r.Config.Batch))
	if err != nil {
		return IterationRecord{}, err
	}
	b := float64(r.Config.Batch)
	rec := IterationRecord{Iteration: r.Iteration, Loss: res.Loss, Accuracy: res.Accuracy,
		SpikesPerTrial: float64(res.Spikes) / b, SynOpsPerTrial: float64(res.SynOps) / b, Seconds: time.Since(start).Seconds()}
	r.Iteration++
	r.History = append(r.History, rec)
	return rec, nil
}

// freshStream is the PCG stream of evaluation trials, far from the
// training batches' streams 1, 2, ...
const freshStream = 1 << 62

// EvaluateFresh scores the current network on trials fresh trials that no
// training iteration draws (PCG(Seed, 2^62)); the same call gives the same
// trials, so runs and checkpoints are compared on one set.
func (r *EvidenceRun) EvaluateFresh(trials int) (Result, error) {
	if trials < 1 {
		return Result{}, fmt.Errorf("learn: %d evaluation trials, want at least 1", trials)
	}
	gen, err := r.batches(freshStream)
	if err != nil {
		return Result{}, err
	}
	var total Result
	done := 0
	for done < trials {
		n := min(64, trials-done)
		res, err := r.Trainer.Evaluate(gen.Next(n))
		if err != nil {
			return Result{}, err
		}
		total.Loss += res.Loss * float64(n)
		total.Accuracy += res.Accuracy * float64(n)
		total.Spikes += res.Spikes
		total.SynOps += res.SynOps
		done += n
	}
	total.Loss /= float64(trials)
	total.Accuracy /= float64(trials)
	return total, nil
}

// RasterTrial simulates fresh trial 0 (of EvaluateFresh's set) and returns
// its input (steps × inputs), the recurrent spikes as (step, neuron) pairs
// and the class.
func (r *EvidenceRun) RasterTrial() (inputs []float64, spikes [][2]int, class int, err error) {
	gen, err := r.batches(freshStream)
	if err != nil {
		return nil, nil, 0, err
	}
	seq := gen.Next(1).Sequences[0]
	net := r.Trainer.Net
	st, err := snn.NewRecurrentState(net)
	if err != nil {
		return nil, nil, 0, err
	}
	steps := r.Config.Task.Steps()
	for t := 0; t < steps; t++ {
		net.Step(st, seq.Inputs[t*net.Inputs:(t+1)*net.Inputs])
		for _, j := range st.Fired {
			spikes = append(spikes, [2]int{t, int(j)})
		}
	}
	return seq.Inputs, spikes, seq.Class, nil
}
