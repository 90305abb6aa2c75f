package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/replay"
)

// paramSet is what a trainer's parameters offer the shared loop: their
// tensors in a fixed order (Adam's state and checkpoints index them by it)
// and copies.
type paramSet[P any] interface {
	comparable
	tensors() [][]float32
	copyFrom(src P)
	snapshot() P
}

// learner is the network side of a Q-learning trainer: greedy actions,
// gradient steps and greedy evaluation of the online network. The shared
// loop does the rest.
type learner interface {
	act(obs []float32) int
	update(lr float64) (float32, error)
	paramsChanged()
	evaluateOnline(seed uint64, episodes int) ([]float64, error)
	SaveCheckpoint(path string) error
}

// qLearning is the part of a DQN-style run that does not depend on the
// network: ε-greedy interaction with the env, the replay buffer, the
// learning-rate, target, keep-best, progress and checkpoint schedules of
// Config, and the books (returns, metrics, solved step). Trainer (an MLP on
// Gorgonia) and SQNTrainer (a spiking network, hand-written BPTT) embed it.
type qLearning[P paramSet[P]] struct {
	loopCfg   Config
	env       env.Env
	evalEnv   env.Env
	sizes     []int
	threshold float64

	online, target P
	best           P // the zero P (nil) until keep-best has run
	opt            *adam
	buf            *replay.Buffer
	batch          *replay.Batch

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

// initQLearning makes the envs, the online and target parameters (by
// newParams, uninitialised), the optimiser, the replay buffer and the random
// streams.
func (q *qLearning[P]) initQLearning(cfg Config, newParams func(sizes []int) P) error {
	e, err := env.Make(cfg.Env)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	evalEnv, _ := env.Make(cfg.Env)
	q.loopCfg, q.env, q.evalEnv, q.bestScore = cfg, e, evalEnv, math.Inf(-1)
	q.sizes = append([]int{e.ObservationSize()}, cfg.Hidden...)
	q.sizes = append(q.sizes, e.NumActions())
	q.threshold = cfg.SolveThresh
	if q.threshold == 0 {
		q.threshold = rewardThreshold(e)
	}
	q.online, q.target = newParams(q.sizes), newParams(q.sizes)
	q.opt = newAdam(q.online.tensors())
	if q.buf, err = replay.New(cfg.Buffer, e.ObservationSize()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	q.batch = replay.NewBatch(cfg.Batch, e.ObservationSize())
	q.actPCG = rand.NewPCG(cfg.Seed, streamAct)
	q.replayPCG = rand.NewPCG(cfg.Seed, streamReplay)
	q.actRNG = rand.New(q.actPCG)
	q.replayRNG = rand.New(q.replayPCG)
	q.obs = make([]float32, 0, e.ObservationSize())
	return nil
}

// start seeds the env and resets it for the first episode of a fresh run.
func (q *qLearning[P]) start() {
	q.env.Seed(q.loopCfg.Seed)
	q.obs = append(q.obs[:0], q.env.Reset()...)
	q.resets = 1
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

// Step is the number of env steps done so far.
func (q *qLearning[P]) Step() int64 { return q.step }

// Metrics returns the rows so far (shared; do not modify).
func (q *qLearning[P]) Metrics() []Row { return q.metrics }

// Sizes returns the network's widths, input to output.
func (q *qLearning[P]) Sizes() []int { return q.sizes }

func (q *qLearning[P]) epsilon(step int64) float64 {
	frac := math.Min(1, float64(step-1)/float64(q.loopCfg.EpsSteps))
	return q.loopCfg.EpsStart + frac*(q.loopCfg.EpsEnd-q.loopCfg.EpsStart)
}

func (q *qLearning[P]) learningRate(step int64) float64 {
	frac := float64(step-1) / float64(q.loopCfg.Steps)
	return q.loopCfg.LR + frac*(q.loopCfg.LRFinal-q.loopCfg.LR)
}

// run trains until Config.Steps env steps are done or ctx is cancelled (then
// it writes a checkpoint if asked and returns ctx's error).
func (q *qLearning[P]) run(ctx context.Context, opts RunOptions, l learner) error {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 1000
	}
	cfg := q.loopCfg
	nActions := q.sizes[len(q.sizes)-1]
	for q.step < int64(cfg.Steps) {
		step := q.step + 1
		eps := q.epsilon(step)
		var action int
		if q.actRNG.Float64() < eps {
			action = q.actRNG.IntN(nActions)
		} else {
			action = l.act(q.obs)
		}
		res, err := q.env.Step(action)
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		q.buf.Add(q.obs, action, float32(res.Reward), res.Obs, res.Terminated)
		q.epReturn += res.Reward
		q.epActions = append(q.epActions, int32(action))
		q.obs = append(q.obs[:0], res.Obs...)
		q.step = step

		if step > int64(cfg.Warmup) && step%int64(cfg.TrainEvery) == 0 {
			start := time.Now()
			loss, err := l.update(q.learningRate(step))
			q.learnTime += time.Since(start)
			if err == nil && (math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0)) {
				err = fmt.Errorf("loss diverged to %v after %d updates", loss, q.updates)
			}
			if err != nil {
				return fmt.Errorf("train: step %d: %w", step, err)
			}
			q.epLossSum += float64(loss)
			q.epLossN++
		}
		if cfg.Tau == 0 && step%int64(cfg.TargetSync) == 0 {
			q.target.copyFrom(q.online)
			l.paramsChanged()
		}
		if res.Terminated || res.Truncated {
			q.endEpisode(eps)
		}
		if cfg.KeepBestEvery > 0 && step%int64(cfg.KeepBestEvery) == 0 {
			if err := q.keepBest(eps, l); err != nil {
				return err
			}
		}
		if opts.Progress != nil && (step%opts.ProgressEvery == 0 || step == int64(cfg.Steps)) {
			opts.Progress(q.progress(eps))
		}
		if opts.CheckpointPath != "" && cfg.CheckpointEvery > 0 && step%int64(cfg.CheckpointEvery) == 0 && step < int64(cfg.Steps) {
			if err := l.SaveCheckpoint(opts.CheckpointPath); err != nil {
				return err
			}
		}
		if step == opts.StopAt {
			return nil
		}
		if step&255 == 0 && ctx.Err() != nil {
			if opts.CheckpointPath != "" {
				if err := l.SaveCheckpoint(opts.CheckpointPath); err != nil {
					return err
				}
			}
			return ctx.Err()
		}
	}
	return nil
}

func (q *qLearning[P]) endEpisode(eps float64) {
	q.returns = append(q.returns, q.epReturn)
	loss := math.NaN()
	if q.epLossN > 0 {
		loss = q.epLossSum / float64(q.epLossN)
	}
	q.metrics = append(q.metrics, Row{Step: q.step, Episode: len(q.returns), Return: q.epReturn, Loss: loss, Epsilon: eps, Eval: math.NaN()})
	if q.solvedStep == 0 && len(q.returns) >= q.loopCfg.Window && q.windowMean() >= q.threshold {
		q.solvedStep = q.step
	}
	q.epReturn, q.epLossSum, q.epLossN = 0, 0, 0
	q.epActions = q.epActions[:0]
	q.obs = append(q.obs[:0], q.env.Reset()...)
	q.resets++
}

func (q *qLearning[P]) windowMean() float64 {
	n := min(len(q.returns), q.loopCfg.Window)
	if n == 0 {
		return math.NaN()
	}
	return mean(q.returns[len(q.returns)-n:])
}

func (q *qLearning[P]) hasBest() bool {
	var none P
	return q.best != none
}

func (q *qLearning[P]) progress(eps float64) Progress {
	best := math.NaN()
	if q.hasBest() {
		best = q.bestScore
	}
	return Progress{Step: q.step, Total: int64(q.loopCfg.Steps), Episodes: len(q.returns), MeanReturn: q.windowMean(), Epsilon: eps, BestEval: best}
}

// keepBest evaluates the online network greedily (env seed + 20000) and
// keeps a copy when it scores best so far.
func (q *qLearning[P]) keepBest(eps float64, l learner) error {
	rets, err := l.evaluateOnline(q.loopCfg.Seed+20000, q.loopCfg.KeepBestEps)
	if err != nil {
		return err
	}
	score := mean(rets)
	q.metrics = append(q.metrics, Row{Step: q.step, Episode: len(q.returns), Return: math.NaN(), Loss: math.NaN(), Epsilon: eps, Eval: score})
	if !q.hasBest() || score > q.bestScore {
		if !q.hasBest() {
			q.best = q.online.snapshot()
		} else {
			q.best.copyFrom(q.online)
		}
		q.bestScore, q.bestStep = score, q.step
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
