package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/replay"
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
	cfg       Config
	env       env.Env
	evalEnv   env.Env
	sizes     []int
	threshold float64

	online, target       *qParams
	onlineNet, targetNet *model.Network
	actPolicy            *model.QPolicy
	evalPolicy           *model.QPolicy
	ws                   *model.Workspace
	graph                *lossGraph
	opt                  *adam
	buf                  *replay.Buffer
	batch                *replay.Batch
	qNext, qNextOnline   []float32
	targets              []float32

	actPCG, replayPCG *rand.PCG
	actRNG, replayRNG *rand.Rand

	// Counters and history: everything a checkpoint must restore.
	step       int64
	resets     int64
	obs        []float32
	epReturn   float64
	epActions  []int32
	epLossSum  float64
	epLossN    int
	updates    int64
	returns    []float64
	solvedStep int64 // 0: not solved
	metrics    []Row
	best       *qParams
	bestScore  float64
	bestStep   int64

	// Timing of this process's part of the run (not checkpointed).
	learnTime time.Duration
}

// Seeds of the independent random streams, derived from Config.Seed.
const (
	streamInit   = 0x696e6974 // "init": network initialisation
	streamAct    = 0x61637420 // "act ": epsilon-greedy exploration
	streamReplay = 0x7265706c // "repl": replay sampling
)

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
	t.env.Seed(cfg.Seed)
	t.obs = append(t.obs[:0], t.env.Reset()...)
	t.resets = 1
	return t, nil
}

func newTrainer(cfg Config) (*Trainer, error) {
	e, err := env.Make(cfg.Env)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	evalEnv, _ := env.Make(cfg.Env)
	t := &Trainer{cfg: cfg, env: e, evalEnv: evalEnv, bestScore: math.Inf(-1)}
	t.sizes = append([]int{e.ObservationSize()}, cfg.Hidden...)
	t.sizes = append(t.sizes, e.NumActions())
	t.threshold = cfg.SolveThresh
	if t.threshold == 0 {
		t.threshold = rewardThreshold(e)
	}
	t.online = newQParams(t.sizes)
	t.target = newQParams(t.sizes)
	t.onlineNet = t.online.network()
	t.targetNet = t.target.network()
	t.actPolicy = model.NewQPolicy(t.onlineNet)
	t.ws = t.onlineNet.NewWorkspace(cfg.Batch)
	if t.graph, err = newLossGraph(t.online, cfg.Batch, cfg.Loss); err != nil {
		return nil, err
	}
	t.opt = newAdam(t.online.tensors())
	if t.buf, err = replay.New(cfg.Buffer, e.ObservationSize()); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.batch = replay.NewBatch(cfg.Batch, e.ObservationSize())
	t.qNext = make([]float32, cfg.Batch*e.NumActions())
	t.qNextOnline = make([]float32, cfg.Batch*e.NumActions())
	t.targets = make([]float32, cfg.Batch)
	t.actPCG = rand.NewPCG(cfg.Seed, streamAct)
	t.replayPCG = rand.NewPCG(cfg.Seed, streamReplay)
	t.actRNG = rand.New(t.actPCG)
	t.replayRNG = rand.New(t.replayPCG)
	t.obs = make([]float32, 0, e.ObservationSize())
	return t, nil
}

// rewardThreshold is gym's reward_threshold: 475 for CartPole-v1, 195 for v0.
func rewardThreshold(e env.Env) float64 {
	if n, ok := e.(interface{ MaxSteps() int }); ok {
		if n.MaxSteps() == 200 {
			return 195
		}
		return 0.95 * float64(n.MaxSteps())
	}
	return math.Inf(1)
}

// Config returns the run's settings.
func (t *Trainer) Config() Config { return t.cfg }

// Step is the number of env steps done so far.
func (t *Trainer) Step() int64 { return t.step }

// Metrics returns the rows so far (shared; do not modify).
func (t *Trainer) Metrics() []Row { return t.metrics }

// Sizes returns the Q-network's widths, input to output.
func (t *Trainer) Sizes() []int { return t.sizes }

func (t *Trainer) epsilon(step int64) float64 {
	frac := math.Min(1, float64(step-1)/float64(t.cfg.EpsSteps))
	return t.cfg.EpsStart + frac*(t.cfg.EpsEnd-t.cfg.EpsStart)
}

func (t *Trainer) learningRate(step int64) float64 {
	frac := float64(step-1) / float64(t.cfg.Steps)
	return t.cfg.LR + frac*(t.cfg.LRFinal-t.cfg.LR)
}

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
func (t *Trainer) Run(ctx context.Context, opts RunOptions) error {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 1000
	}
	cfg := t.cfg
	nActions := t.sizes[len(t.sizes)-1]
	for t.step < int64(cfg.Steps) {
		step := t.step + 1
		eps := t.epsilon(step)
		var action int
		if t.actRNG.Float64() < eps {
			action = t.actRNG.IntN(nActions)
		} else {
			action = t.actPolicy.Act(t.obs)
		}
		res, err := t.env.Step(action)
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		t.buf.Add(t.obs, action, float32(res.Reward), res.Obs, res.Terminated)
		t.epReturn += res.Reward
		t.epActions = append(t.epActions, int32(action))
		t.obs = append(t.obs[:0], res.Obs...)
		t.step = step

		if step > int64(cfg.Warmup) && step%int64(cfg.TrainEvery) == 0 {
			loss, err := t.update(t.learningRate(step))
			if err != nil {
				return fmt.Errorf("train: step %d: %w", step, err)
			}
			t.epLossSum += float64(loss)
			t.epLossN++
		}
		if cfg.Tau == 0 && step%int64(cfg.TargetSync) == 0 {
			t.target.copyFrom(t.online)
			t.targetNet.Refresh()
		}
		if res.Terminated || res.Truncated {
			t.endEpisode(eps)
		}
		if cfg.KeepBestEvery > 0 && step%int64(cfg.KeepBestEvery) == 0 {
			if err := t.keepBest(eps); err != nil {
				return err
			}
		}
		if opts.Progress != nil && (step%opts.ProgressEvery == 0 || step == int64(cfg.Steps)) {
			opts.Progress(t.progress(eps))
		}
		if opts.CheckpointPath != "" && cfg.CheckpointEvery > 0 && step%int64(cfg.CheckpointEvery) == 0 && step < int64(cfg.Steps) {
			if err := t.SaveCheckpoint(opts.CheckpointPath); err != nil {
				return err
			}
		}
		if step == opts.StopAt {
			return nil
		}
		if step&255 == 0 && ctx.Err() != nil {
			if opts.CheckpointPath != "" {
				if err := t.SaveCheckpoint(opts.CheckpointPath); err != nil {
					return err
				}
			}
			return ctx.Err()
		}
	}
	return nil
}

func (t *Trainer) endEpisode(eps float64) {
	t.returns = append(t.returns, t.epReturn)
	loss := math.NaN()
	if t.epLossN > 0 {
		loss = t.epLossSum / float64(t.epLossN)
	}
	t.metrics = append(t.metrics, Row{Step: t.step, Episode: len(t.returns), Return: t.epReturn, Loss: loss, Epsilon: eps, Eval: math.NaN()})
	if t.solvedStep == 0 && len(t.returns) >= t.cfg.Window && t.windowMean() >= t.threshold {
		t.solvedStep = t.step
	}
	t.epReturn, t.epLossSum, t.epLossN = 0, 0, 0
	t.epActions = t.epActions[:0]
	t.obs = append(t.obs[:0], t.env.Reset()...)
	t.resets++
}

func (t *Trainer) windowMean() float64 {
	n := min(len(t.returns), t.cfg.Window)
	if n == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, r := range t.returns[len(t.returns)-n:] {
		s += r
	}
	return s / float64(n)
}

func (t *Trainer) progress(eps float64) Progress {
	best := math.NaN()
	if t.best != nil {
		best = t.bestScore
	}
	return Progress{Step: t.step, Total: int64(t.cfg.Steps), Episodes: len(t.returns), MeanReturn: t.windowMean(), Epsilon: eps, BestEval: best}
}

// paramsChanged refreshes the plain-Go networks that share the online and
// target parameter slices (model.Network keeps a transposed copy).
func (t *Trainer) paramsChanged() {
	t.onlineNet.Refresh()
	t.targetNet.Refresh()
}

// update does one gradient step on a sampled batch and returns its loss.
func (t *Trainer) update(lr float64) (float32, error) {
	start := time.Now()
	b := t.batch
	t.buf.Sample(b, t.replayRNG)
	t.targetNet.ForwardBatch(t.qNext, b.NextObs, b.Size, t.ws)
	nA := t.sizes[len(t.sizes)-1]
	if t.cfg.Double {
		t.onlineNet.ForwardBatch(t.qNextOnline, b.NextObs, b.Size, t.ws)
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
	t.opt.update(t.online.tensors(), grads, lr)
	if t.cfg.Tau > 0 {
		t.target.polyak(t.online, float32(t.cfg.Tau))
	}
	t.paramsChanged()
	t.updates++
	t.learnTime += time.Since(start)
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, fmt.Errorf("loss diverged to %v after %d updates", loss, t.updates)
	}
	return loss, nil
}

// Evaluate runs greedy episodes of net on the evaluation env seeded with seed.
func (t *Trainer) evaluate(net *model.Network, seed uint64, episodes int) ([]float64, error) {
	return Evaluate(t.evalEnv, net, seed, episodes)
}

// Evaluate plays episodes greedy episodes of net on e, seeded with seed, in plain Go.
func Evaluate(e env.Env, net *model.Network, seed uint64, episodes int) ([]float64, error) {
	p := model.NewQPolicy(net)
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

func (t *Trainer) keepBest(eps float64) error {
	rets, err := t.evaluate(t.onlineNet, t.cfg.Seed+20000, t.cfg.KeepBestEps)
	if err != nil {
		return err
	}
	score := mean(rets)
	t.metrics = append(t.metrics, Row{Step: t.step, Episode: len(t.returns), Return: math.NaN(), Loss: math.NaN(), Epsilon: eps, Eval: score})
	if t.best == nil || score > t.bestScore {
		if t.best == nil {
			t.best = t.online.snapshot()
		} else {
			t.best.copyFrom(t.online)
		}
		t.bestScore, t.bestStep = score, t.step
	}
	return nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
