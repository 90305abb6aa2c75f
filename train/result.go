package train

import (
	"math"
	"runtime"
	"time"

	"github.com/spikebridge/spikebridge/model"
)

// KeptBest says which network keep-best chose.
type KeptBest struct {
	Score float64 `json:"score10"` // mean greedy return of the keep-best evaluation (named as in dqn_torch.py)
	Step  int64   `json:"step"`
}

// Result summarises a run with the field names of dqn_torch.py's RESULT line,
// plus the settings that differ from it.
type Result struct {
	Seed                 uint64    `json:"seed"`
	Steps                int       `json:"steps"`
	Threads              int       `json:"threads"`
	Loss                 string    `json:"loss"`
	Version              string    `json:"version"`
	StepsPerS            float64   `json:"steps_per_s"`
	TrainWallS           float64   `json:"train_wall_s"`
	Updates              int64     `json:"updates"`
	UpdatesPerSLearnOnly *float64  `json:"updates_per_s_learn_only"`
	LearnShare           float64   `json:"learn_share"`
	Episodes             int       `json:"episodes"`
	SolvedStep           *int64    `json:"solved_step"`
	SolveThreshold       float64   `json:"solve_threshold"`
	FinalMeanLast20      *float64  `json:"final_mean_last20"`
	EvalMean             float64   `json:"eval_mean"`
	EvalMin              float64   `json:"eval_min"`
	EvalMax              float64   `json:"eval_max"`
	EvalWallS            float64   `json:"eval_wall_s"`
	KeptBest             *KeptBest `json:"kept_best"`
	Go                   string    `json:"go"`
	Gorgonia             string    `json:"gorgonia"`

	EvalEpisodes int       `json:"eval_episodes"`
	EvalReturns  []float64 `json:"eval_returns"`
	Double       bool      `json:"double"`
	Tau          float64   `json:"tau"`
	LRFinal      float64   `json:"lr_final"`
	ResumedAt    int64     `json:"resumed_at_step"` // 0 for a run that was never resumed
}

// Finish evaluates the kept network (the best one if keep-best ran, else the
// last) greedily over Config.EvalEpisodes episodes (env seed + 10000) and
// returns the summary with the kept and the final networks. wall is the time
// the training loop took in this process, steps the env steps it made.
func (t *Trainer) Finish(wall time.Duration, steps int64) (Result, *model.Network, *model.Network, error) {
	kept := t.online.snapshot()
	var keptBest *KeptBest
	if t.best != nil {
		kept = t.best.snapshot()
		keptBest = &KeptBest{Score: t.bestScore, Step: t.bestStep}
	}
	keptNet := kept.network()
	finalNet := t.online.snapshot().network()
	evalStart := time.Now()
	rets, err := t.evaluate(keptNet, t.cfg.Seed+10000, t.cfg.EvalEpisodes)
	if err != nil {
		return Result{}, nil, nil, err
	}
	r := t.runResult(t.cfg, wall, steps, rets, evalStart, keptBest, "v0.9.18")
	if t.learnTime > 0 {
		v := float64(t.updates) / t.learnTime.Seconds()
		r.UpdatesPerSLearnOnly = &v
	}
	return r, keptNet, finalNet, nil
}

// runResult fills the fields of Result that DQN and SQN runs report alike:
// settings, books, the evaluation of the kept network (rets, started at
// evalStart) and the timing of wall for steps env steps.
func (q *qLearning[P]) runResult(cfg Config, wall time.Duration, steps int64, rets []float64, evalStart time.Time, keptBest *KeptBest, gorgonia string) Result {
	r := Result{
		Seed: cfg.Seed, Steps: cfg.Steps, Threads: runtime.GOMAXPROCS(0), Loss: cfg.Loss,
		Version: versionOf(cfg.Env), TrainWallS: wall.Seconds(), Updates: q.updates,
		Episodes: len(q.returns), SolveThreshold: q.threshold,
		EvalMean: mean(rets), EvalMin: minOf(rets), EvalMax: maxOf(rets), EvalWallS: time.Since(evalStart).Seconds(),
		KeptBest: keptBest, Go: runtime.Version(), Gorgonia: gorgonia,
		EvalEpisodes: len(rets), EvalReturns: rets, Double: cfg.Double, Tau: cfg.Tau, LRFinal: cfg.LRFinal,
	}
	if wall > 0 {
		r.StepsPerS = float64(steps) / wall.Seconds()
		r.LearnShare = q.learnTime.Seconds() / wall.Seconds()
	}
	if q.solvedStep > 0 {
		s := q.solvedStep
		r.SolvedStep = &s
	}
	if len(q.returns) > 0 {
		v := q.windowMean()
		r.FinalMeanLast20 = &v
	}
	return r
}

func versionOf(envName string) string {
	if n := len(envName); n >= 2 && envName[n-2] == 'v' {
		return envName[n-2:]
	}
	return envName
}

func minOf(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}
