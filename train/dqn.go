package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// Row is one line of metrics.csv: an episode end (Return set, Eval NaN) or
// a keep-best evaluation (Eval set, Return and Loss NaN). Loss is the mean
// loss of the updates made during the episode.
type Row struct {
	Step    int64
	Episode int
	Return  float64
	Loss    float64
	Epsilon float64
	Eval    float64
}

// Progress is what a running trainer reports to its caller.
type Progress struct {
	Step, Total int64
	Episodes    int
	MeanReturn  float64 // over the last Window episodes; NaN before the first
	Epsilon     float64
	BestEval    float64 // NaN until the first keep-best evaluation
}

// Trainer is one DQN run. Make it with NewTrainer (fresh) or ResumeTrainer
// (from a checkpoint), then call Run.
type Trainer struct {
	qLearning[*qParams]
	cfg Config

	onlineNet          *model.Network // acting and evaluation
	actPolicy          *model.QPolicy
	forward            *batchForward // target (and Double DQN online) Q-values of a batch
	graph              *lossGraph
	qNext, qNextOnline []float32
	targets            []float32
	params             [][]float32 // online.tensors(), listed once
}

// NewTrainer validates cfg, makes the environment and initialises the
// networks (torch nn.Linear default init from the seed).
func NewTrainer(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newTrainer(cfg)
	if err != nil {
		return nil, err
	}
	t.online.initTorchDefault(rand.New(rand.NewPCG(cfg.Seed, streamInit)))
	t.target.copyFrom(t.online)
	t.paramsChanged()
	t.start()
	return t, nil
}

func newTrainer(cfg Config) (*Trainer, error) {
	t := &Trainer{cfg: cfg}
	if err := t.initQLearning(cfg, newQParams); err != nil {
		return nil, err
	}
	t.onlineNet = t.online.network()
	t.actPolicy = model.NewQPolicy(t.onlineNet)
	t.forward = newBatchForward(t.sizes, cfg.Batch)
	var err error
	if t.graph, err = newLossGraph(t.online, cfg.Batch, cfg.Loss); err != nil {
		return nil, err
	}
	nA := t.sizes[len(t.sizes)-1]
	t.qNext = make([]float32, cfg.Batch*nA)
	t.qNextOnline = make([]float32, cfg.Batch*nA)
	t.targets = make([]float32, cfg.Batch)
	t.params = t.online.tensors()
	return t, nil
}

// Config returns the run's settings.
func (t *Trainer) Config() Config { return t.cfg }

// RunOptions are the hooks of Run.
type RunOptions struct {
	// CheckpointPath, when set, receives a checkpoint every
	// Config.CheckpointEvery steps and when ctx is cancelled.
	CheckpointPath string
	// Progress, when set, is called every ProgressEvery steps and at the end.
	Progress      func(Progress)
	ProgressEvery int64
	// StopAt, when positive, ends Run after that env step (as if
	// interrupted, without a checkpoint and without an error).
	StopAt int64
}

// Run trains until Config.Steps env steps are done or ctx is cancelled (then
// it writes a checkpoint if asked and returns ctx's error).
func (t *Trainer) Run(ctx context.Context, opts RunOptions) error { return t.run(ctx, opts, t) }

// act returns the online network's greedy action for obs.
func (t *Trainer) act(obs []float32) int { return t.actPolicy.Act(obs) }

// evaluateOnline plays greedy episodes with the online network.
func (t *Trainer) evaluateOnline(seed uint64, episodes int) ([]float64, error) {
	return t.evaluate(t.onlineNet, seed, episodes)
}

// paramsChanged refreshes the plain-Go acting network, which shares the
// online parameter slices but reads a transposed copy of the weights. (The
// batch forward reads the parameters directly.)
func (t *Trainer) paramsChanged() {
	t.onlineNet.Refresh()
}

// update does one gradient step on a sampled batch and returns its loss.
func (t *Trainer) update(lr float64) (float32, error) {
	b := t.batch
	t.buf.Sample(b, t.replayRNG)
	t.forward.run(t.qNext, t.target, b.NextObs)
	nA := t.sizes[len(t.sizes)-1]
	if t.cfg.Double {
		t.forward.run(t.qNextOnline, t.online, b.NextObs)
	}
	gamma := float32(t.cfg.Gamma)
	for s := 0; s < b.Size; s++ {
		var next float32
		if t.cfg.Double {
			next = t.qNext[s*nA+model.Argmax(t.qNextOnline[s*nA:(s+1)*nA])]
		} else {
			row := t.qNext[s*nA : (s+1)*nA]
			next = row[0]
			for _, v := range row[1:] {
				next = max(next, v)
			}
		}
		t.targets[s] = b.Rewards[s] + gamma*(1-b.Terminated[s])*next
	}
	t.graph.setInputs(b.Obs, b.Actions, t.targets)
	loss, grads, err := t.graph.run()
	if err != nil {
		return 0, err
	}
	t.opt.update(t.params, grads, lr)
	t.onlineNet.Refresh()
	if t.cfg.Tau > 0 {
		t.target.polyak(t.online, float32(t.cfg.Tau))
	}
	t.updates++
	return loss, nil
}

// Evaluate runs greedy episodes of net on the evaluation env seeded with seed.
func (t *Trainer) evaluate(net *model.Network, seed uint64, episodes int) ([]float64, error) {
	return Evaluate(t.evalEnv, net, seed, episodes)
}

// Evaluate plays episodes greedy episodes of net on e, seeded with seed, in plain Go.
func Evaluate(e env.Env, net *model.Network, seed uint64, episodes int) ([]float64, error) {
	return evaluatePolicy(e, model.NewQPolicy(net), seed, episodes)
}

// evaluatePolicy plays greedy episodes of p on e seeded with seed: the
// returns of Evaluate (a Q-network) and of the SQN trainer (a spiking one).
func evaluatePolicy(e env.Env, p env.Policy, seed uint64, episodes int) ([]float64, error) {
	e.Seed(seed)
	returns := make([]float64, 0, episodes)
	for ep := 0; ep < episodes; ep++ {
		obs := e.Reset()
		ret := 0.0
		for {
			res, err := e.Step(p.Act(obs))
			if err != nil {
				return nil, fmt.Errorf("train: evaluation episode %d: %w", ep+1, err)
			}
			ret += res.Reward
			obs = res.Obs
			if res.Terminated || res.Truncated {
				break
			}
		}
		returns = append(returns, ret)
	}
	return returns, nil
}
