package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// SQNConfig is a spiking Q-network run: the DQN settings plus the neurons'.
type SQNConfig struct {
	Config
	Timesteps  int     `json:"timesteps"`   // simulated steps per decision (sqn_torch.py's T = this + 2)
	Threshold  float64 `json:"threshold"`   // firing threshold
	Leak       float64 `json:"leak"`        // β: 1 for IF, < 1 for LIF
	Surrogate  string  `json:"surrogate"`   // superspike or sigmoid
	SurrogateK float64 `json:"surrogate_k"` // surrogate steepness k
	GradClip   float64 `json:"grad_clip"`   // clamp every gradient element to [-c, c]; 0 = off
}

// DefaultSQNConfig returns `train sqn`'s defaults: DSQN's neurons (IF,
// threshold 1, SuperSpike k = 100), MSE loss and gradients clamped to ±1 as
// sqn_torch.py, with DefaultConfig's Double DQN, soft target updates, decaying
// learning rate and keep-best evaluation.
func DefaultSQNConfig() SQNConfig {
	c := DefaultConfig()
	c.Loss = "mse"
	return SQNConfig{Config: c, Timesteps: 20, Threshold: 1, Leak: 1, Surrogate: SurrogateSuperSpike, SurrogateK: 100, GradClip: 1}
}

// Validate reports the first setting that cannot work, naming the flag.
func (c SQNConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.Timesteps < 1 {
		return settingErrorf("timesteps", "must be positive, got %d", c.Timesteps)
	}
	if !(c.Threshold > 0) || math.IsInf(c.Threshold, 0) {
		return settingErrorf("threshold", "must be a finite number > 0, got %g", c.Threshold)
	}
	if !(c.Leak > 0 && c.Leak <= 1) {
		return settingErrorf("leak", "must be in (0, 1], got %g", c.Leak)
	}
	if c.Surrogate != SurrogateSuperSpike && c.Surrogate != SurrogateSigmoid {
		return settingErrorf("surrogate", "must be %s or %s, got %q", SurrogateSuperSpike, SurrogateSigmoid, c.Surrogate)
	}
	if !(c.SurrogateK > 0) || math.IsInf(c.SurrogateK, 0) {
		return settingErrorf("surrogate_k", "must be a finite number > 0, got %g", c.SurrogateK)
	}
	if math.IsNaN(c.GradClip) || c.GradClip < 0 {
		return settingErrorf("grad_clip", "must be >= 0, got %g", c.GradClip)
	}
	return nil
}

func (c SQNConfig) neurons() SQNNeurons {
	return SQNNeurons{Timesteps: c.Timesteps, Threshold: float32(c.Threshold), Leak: float32(c.Leak),
		Surrogate: c.Surrogate, SurrogateK: float32(c.SurrogateK)}
}

// SQNTrainer trains a spiking Q-network with DQN and backpropagation through
// time. Acting, TD targets and keep-best evaluation run sqnNet's plain-Go
// forward, which equals snn's simulation of the same network bit for bit.
type SQNTrainer struct {
	qLearning[*sqnParams]
	cfg SQNConfig

	onlineNet      *sqnNet
	targetNet      *sqnNet
	qNext, qOnline []float32
	gQ             []float32
}

// NewSQNTrainer validates cfg, makes the environment and initialises the
// network as sqn_torch.py does (N(0, 1/fan_in), the bias input counted).
func NewSQNTrainer(cfg SQNConfig) (*SQNTrainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newSQNTrainer(cfg)
	if err != nil {
		return nil, err
	}
	t.online.initDSQN(rand.New(rand.NewPCG(cfg.Seed, streamInit)))
	t.target.copyFrom(t.online)
	t.paramsChanged()
	t.start()
	return t, nil
}

func newSQNTrainer(cfg SQNConfig) (*SQNTrainer, error) {
	t := &SQNTrainer{cfg: cfg}
	if err := t.initQLearning(cfg.Config, newSQNParams); err != nil {
		return nil, err
	}
	t.onlineNet = newSQNNet(t.online, cfg.neurons(), cfg.Batch)
	t.targetNet = newSQNNet(t.target, cfg.neurons(), cfg.Batch)
	nA := t.sizes[len(t.sizes)-1]
	t.qNext = make([]float32, cfg.Batch*nA)
	t.qOnline = make([]float32, cfg.Batch*nA)
	t.gQ = make([]float32, cfg.Batch*nA)
	return t, nil
}

// Config returns the run's settings.
func (t *SQNTrainer) Config() SQNConfig { return t.cfg }

func (t *SQNTrainer) paramsChanged() {
	t.onlineNet.refresh()
	t.targetNet.refresh()
}

// act returns the online network's greedy action for obs.
func (t *SQNTrainer) act(obs []float32) int {
	return model.Argmax(t.onlineNet.forward(obs, 1))
}

// Run trains until Config.Steps env steps are done or ctx is cancelled (then
// it writes a checkpoint if asked and returns ctx's error), as Trainer.Run.
func (t *SQNTrainer) Run(ctx context.Context, opts RunOptions) error { return t.run(ctx, opts, t) }

// evaluateOnline plays greedy episodes with the online network.
func (t *SQNTrainer) evaluateOnline(seed uint64, episodes int) ([]float64, error) {
	return t.evaluate(t.onlineNet, seed, episodes)
}

// update does one gradient step on a sampled batch and returns its loss.
func (t *SQNTrainer) update(lr float64) (float32, error) { return t.learn(lr), nil }

// learn samples a batch, computes the TD targets and the gradients, clamps
// them and applies Adam.
func (t *SQNTrainer) learn(lr float64) float32 {
	b := t.batch
	t.buf.Sample(b, t.replayRNG)
	nA := t.sizes[len(t.sizes)-1]
	copy(t.qNext, t.targetNet.forward(b.NextObs, b.Size))
	if t.cfg.Double {
		copy(t.qOnline, t.onlineNet.forward(b.NextObs, b.Size))
	}
	q := t.onlineNet.forward(b.Obs, b.Size)
	gamma := float32(t.cfg.Gamma)
	clear(t.gQ)
	var loss float32
	inv := 1 / float32(b.Size)
	for s := 0; s < b.Size; s++ {
		var next float32
		if t.cfg.Double {
			next = t.qNext[s*nA+model.Argmax(t.qOnline[s*nA:(s+1)*nA])]
		} else {
			row := t.qNext[s*nA : (s+1)*nA]
			next = row[0]
			for _, v := range row[1:] {
				next = max(next, v)
			}
		}
		y := b.Rewards[s] + gamma*(1-b.Terminated[s])*next
		d := q[s*nA+b.Actions[s]] - y
		if t.cfg.Loss == "huber" && (d > 1 || d < -1) {
			ad := float32(math.Abs(float64(d)))
			loss += (ad - 0.5) * inv
			t.gQ[s*nA+b.Actions[s]] = float32(math.Copysign(1, float64(d))) * inv
		} else if t.cfg.Loss == "huber" {
			loss += 0.5 * d * d * inv
			t.gQ[s*nA+b.Actions[s]] = d * inv
		} else {
			loss += d * d * inv
			t.gQ[s*nA+b.Actions[s]] = 2 * d * inv
		}
	}
	grads := t.onlineNet.backward(t.gQ)
	if c := float32(t.cfg.GradClip); c > 0 {
		for _, g := range grads {
			for i, v := range g {
				g[i] = min(max(v, -c), c)
			}
		}
	}
	t.opt.update(t.online.tensors(), grads, lr)
	if t.cfg.Tau > 0 {
		t.target.polyak(t.online, float32(t.cfg.Tau))
	}
	t.paramsChanged()
	t.updates++
	return loss
}

// evaluate plays greedy episodes with net (sharing p's parameters).
func (t *SQNTrainer) evaluate(net *sqnNet, seed uint64, episodes int) ([]float64, error) {
	return evaluatePolicy(t.evalEnv, sqnPolicy{net}, seed, episodes)
}

type sqnPolicy struct{ n *sqnNet }

func (p sqnPolicy) Act(obs []float32) int { return model.Argmax(p.n.forward(obs, 1)) }

// SQNResult is Result plus the spiking settings.
type SQNResult struct {
	Result
	Timesteps       int     `json:"timesteps"`
	Sizes           []int   `json:"sizes"`
	MsPerUpdate     float64 `json:"ms_per_update"` // as sqn_torch.py's field
	SpikesPerDecide float64 `json:"spikes_per_decision"`
	SynOpsPerDecide float64 `json:"synops_per_decision"`
}

// Finish evaluates the kept network (the best one if keep-best ran, else the
// last) in the snn simulator over Config.EvalEpisodes greedy episodes (env
// seed + 10000) and returns the summary with the kept and final networks as
// snn.Networks.
func (t *SQNTrainer) Finish(wall time.Duration, steps int64) (SQNResult, *snn.Network, *snn.Network, error) {
	kept := t.online
	var keptBest *KeptBest
	if t.best != nil {
		kept = t.best
		keptBest = &KeptBest{Score: t.bestScore, Step: t.bestStep}
	}
	nr := t.cfg.neurons()
	keptNet, err := kept.snnNetwork(nr)
	if err != nil {
		return SQNResult{}, nil, nil, fmt.Errorf("train: kept network: %w", err)
	}
	finalNet, err := t.online.snnNetwork(nr)
	if err != nil {
		return SQNResult{}, nil, nil, fmt.Errorf("train: final network: %w", err)
	}
	evalStart := time.Now()
	pol := &snnGreedy{net: keptNet, state: keptNet.NewState(1)}
	rets, err := evaluatePolicy(t.evalEnv, pol, t.cfg.Seed+10000, t.cfg.EvalEpisodes)
	if err != nil {
		return SQNResult{}, nil, nil, err
	}
	if pol.err != nil {
		return SQNResult{}, nil, nil, pol.err
	}
	r := t.runResult(t.cfg.Config, wall, steps, rets, evalStart, keptBest, "none (hand-written BPTT)")
	out := SQNResult{Timesteps: t.cfg.Timesteps, Sizes: t.sizes}
	if t.learnTime > 0 && t.updates > 0 {
		v := float64(t.updates) / t.learnTime.Seconds()
		r.UpdatesPerSLearnOnly = &v
		out.MsPerUpdate = 1000 / v
	}
	c := pol.state.Counters
	if c.Decisions > 0 {
		var spikes int64
		for _, s := range c.Spikes {
			spikes += s
		}
		out.SpikesPerDecide = float64(spikes) / float64(c.Decisions)
		out.SynOpsPerDecide = float64(c.SynOps) / float64(c.Decisions)
	}
	out.Result = r
	return out, keptNet, finalNet, nil
}

// snnGreedy acts with an snn.Network at its own T; the first error is kept.
type snnGreedy struct {
	net   *snn.Network
	state *snn.State
	err   error
}

func (p *snnGreedy) Act(obs []float32) int {
	a, err := p.net.Run(nil, obs, p.state, 0)
	if err != nil && p.err == nil {
		p.err = err
	}
	return a
}
