package workflow

import (
	"fmt"
	"io"
	"strings"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/model"
)

// EvalOptions says which model plays which greedy episodes (`spikebridge eval`).
type EvalOptions struct {
	Model    string // ANN or SNN .safetensors, or PyTorch .pt
	Env      string // cartpole-v1 or cartpole-v0
	Episodes int    // episodes from Seed's initial states, 1 to MaxEpisodes
	Seed     uint64
	// InitStates, if set, gives one episode per row instead:
	// FILE.npz[:array] (array defaults to init_states) or FILE.npy.
	InitStates string
	Timesteps  int // T per decision of an SNN (0: the file's default)
}

// EvalResult is what Eval measured; the eval fields of DESIGN.md
// ("Machine-readable results") sit at its top level.
type EvalResult struct {
	Model      string    `json:"model"`
	Env        string    `json:"env"`
	Seed       *uint64   `json:"seed,omitempty"`
	InitStates string    `json:"init_states,omitempty"`
	Episodes   int       `json:"episodes"`
	Returns    []float64 `json:"returns"`
	Mean       float64   `json:"mean"`
	Std        float64   `json:"std"` // population std, as numpy's default
	Min        float64   `json:"min"`
	Max        float64   `json:"max"`
	// SNN models only.
	Timesteps         *int     `json:"timesteps,omitempty"`
	SpikesPerDecision *float64 `json:"spikes_per_decision,omitempty"`
}

// WriteText writes the result for people: the mean and spread, then every
// return.
func (r EvalResult) WriteText(w io.Writer) error {
	returns := make([]string, len(r.Returns))
	for i, ret := range r.Returns {
		returns[i] = fmt.Sprint(ret)
	}
	_, err := fmt.Fprintf(w, "%s on %s, %d greedy episodes: return %.2f ± %.2f (min %g, max %g)\nreturns: %s\n",
		r.Model, r.Env, r.Episodes, r.Mean, r.Std, r.Min, r.Max, strings.Join(returns, " "))
	return err
}

// Eval plays opts' episodes greedily with the model (an SNN at its T per
// decision) and gives the returns.
func Eval(opts EvalOptions) (EvalResult, error) {
	if err := opts.check(); err != nil {
		return EvalResult{}, err
	}
	e, err := env.Make(opts.Env)
	if err != nil {
		return EvalResult{}, &OptionError{Msg: "{Env}", Invalid: true, Err: err}
	}
	policy, err := LoadPolicy(opts.Model, opts.Timesteps)
	if err != nil {
		return EvalResult{}, err
	}
	if policy.Inputs != e.ObservationSize() || policy.Outputs != e.NumActions() {
		return EvalResult{}, fmt.Errorf("model %s maps %d inputs to %d outputs, but %s has %d observations and %d actions",
			opts.Model, policy.Inputs, policy.Outputs, opts.Env, e.ObservationSize(), e.NumActions())
	}
	run := env.RunOptions{Episodes: opts.Episodes, Seed: opts.Seed}
	out := EvalResult{Model: opts.Model, Env: opts.Env}
	if opts.InitStates != "" {
		states, err := LoadInitStates(opts.InitStates, e.ObservationSize())
		if err != nil {
			return EvalResult{}, err
		}
		run = env.RunOptions{InitStates: states}
		out.InitStates = opts.InitStates
	} else {
		seed := opts.Seed
		out.Seed = &seed
	}
	res, err := env.Run(e, policy, run)
	if err != nil {
		return EvalResult{}, err
	}
	if p := policy.SNN; p != nil {
		if p.Err != nil {
			return EvalResult{}, fmt.Errorf("%s: %w", opts.Model, p.Err)
		}
		c := p.Counters()
		spikes := float64(c.TotalSpikes()) / float64(max(c.Decisions, 1))
		out.Timesteps, out.SpikesPerDecision = &p.T, &spikes
	}
	out.Episodes, out.Returns = len(res.Returns), res.Returns
	out.Mean, out.Std, out.Min, out.Max = env.ReturnStats(res.Returns)
	return out, nil
}

// check applies the checks Eval and EvalRecurrent share.
func (o EvalOptions) check() error {
	switch {
	case o.InitStates == "" && (o.Episodes < 1 || o.Episodes > MaxEpisodes):
		return invalidf("{Episodes} %d: want 1 to %d", o.Episodes, MaxEpisodes)
	case o.Timesteps < 0:
		return invalidf("{Timesteps} %d: want T > 0 (0: the model file's default)", o.Timesteps)
	}
	return nil
}

// Policy is a model file opened as a policy: it acts (env.Policy) and says
// its sizes; SNN is set for a spiking model (its counters give the cost).
type Policy struct {
	env.Policy
	Inputs, Outputs int
	SNN             *convert.SNNPolicy
}

// LoadPolicy opens a model file of either kind as a policy: an ANN
// (.safetensors or PyTorch .pt) acts greedily on its Q-values and ignores
// timesteps; an SNN runs timesteps steps per decision (0: the file's
// default T).
func LoadPolicy(path string, timesteps int) (*Policy, error) {
	if timesteps < 0 {
		return nil, fmt.Errorf("%d timesteps per decision, want T > 0 (0: the model file's default)", timesteps)
	}
	if !strings.HasSuffix(path, ".pt") && !strings.HasSuffix(path, ".pth") {
		kind, err := formats.ModelKind(path)
		if err != nil {
			return nil, err
		}
		if kind == formats.ModelKindSNN {
			s, _, err := formats.LoadSNN(path)
			if err != nil {
				return nil, err
			}
			p, err := convert.NewSNNPolicy(s, timesteps)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return &Policy{Policy: p, Inputs: s.InputSize(), Outputs: s.OutputSize(), SNN: p}, nil
		}
	}
	net, err := formats.LoadANN(path)
	if err != nil {
		return nil, err
	}
	return &Policy{Policy: model.NewQPolicy(net), Inputs: net.InputSize(), Outputs: net.OutputSize()}, nil
}

// EvalRecurrentResult is what EvalRecurrent measured.
type EvalRecurrentResult struct {
	Model          string  `json:"model"`
	Task           string  `json:"task"`
	Seed           uint64  `json:"seed"`
	Trials         int     `json:"trials"`
	Accuracy       float64 `json:"accuracy"`
	Loss           float64 `json:"loss"`
	SpikesPerTrial float64 `json:"spikes_per_trial"`
	SynOpsPerTrial float64 `json:"synops_per_trial"`
}

// WriteText writes the result for people: one line.
func (r EvalRecurrentResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s on evidence accumulation, %d fresh trials (seed %d): recall accuracy %.3f (loss %.4f), %.0f spikes and %.0f SynOps per trial\n",
		r.Model, r.Trials, r.Seed, r.Accuracy, r.Loss, r.SpikesPerTrial, r.SynOpsPerTrial)
	return err
}

// EvalRecurrent scores a recurrent (e-prop) model on opts.Episodes fresh
// trials of the task it was trained on (the file's task settings), drawn
// from opts.Seed as `train eprop` draws its evaluation trials. It plays no
// CartPole episodes: InitStates must be empty.
func EvalRecurrent(opts EvalOptions) (EvalRecurrentResult, error) {
	if err := opts.check(); err != nil {
		return EvalRecurrentResult{}, err
	}
	if opts.InitStates != "" {
		return EvalRecurrentResult{}, invalidf("{InitStates}: %s is a recurrent evidence-accumulation model; it plays trials, not CartPole episodes", opts.Model)
	}
	net, feedback, meta, err := formats.LoadRecurrent(opts.Model)
	if err != nil {
		return EvalRecurrentResult{}, err
	}
	cfg := learn.DefaultEvidenceRun()
	cfg.Seed = opts.Seed
	task := &cfg.Task
	for name, dst := range map[string]*int{"cues": &task.Cues, "cue_steps": &task.CueSteps, "spacing_steps": &task.SpacingSteps,
		"background_steps": &task.BackgroundSteps, "recall_steps": &task.RecallSteps, "lif": &cfg.Network.LIF, "alif": &cfg.Network.ALIF} {
		if v, ok := meta.Task[name]; ok {
			*dst = int(v)
		}
	}
	for name, dst := range map[string]*float64{"spike_prob": &task.SpikeProb, "minority_prob": &task.MinorityProb} {
		if v, ok := meta.Task[name]; ok {
			*dst = v
		}
	}
	task.Inputs = net.Inputs
	cfg.Eprop.LossWindow = task.RecallSteps
	if feedback == nil {
		feedback = make([]float64, net.Neurons*net.Outputs) // evaluation uses no feedback
	}
	run, err := learn.ResumeEvidenceRun(cfg, net, feedback, 0)
	if err != nil {
		return EvalRecurrentResult{}, fmt.Errorf("%s: %w", opts.Model, err)
	}
	res, err := run.EvaluateFresh(opts.Episodes)
	if err != nil {
		return EvalRecurrentResult{}, err
	}
	return EvalRecurrentResult{Model: opts.Model, Task: "evidence-accumulation", Seed: opts.Seed, Trials: opts.Episodes,
		Accuracy: res.Accuracy, Loss: res.Loss, SpikesPerTrial: float64(res.Spikes) / float64(opts.Episodes),
		SynOpsPerTrial: float64(res.SynOps) / float64(opts.Episodes)}, nil
}
