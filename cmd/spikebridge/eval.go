package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
)

// EvalOptions holds the flags of `spikebridge eval`.
type EvalOptions struct {
	IO       *IOStreams
	Model    string
	Env      string
	Episodes int
	Seed     uint64
	// InitStates, if set, gives one episode per row: FILE.npz[:array]
	// (array defaults to init_states) or FILE.npy.
	InitStates string
	// EpisodesSet records that --episodes was given (it conflicts with
	// --init-states).
	EpisodesSet bool
	JSON        bool
	// Timesteps is T per decision for SNN model files (0: the file's default).
	Timesteps int
}

// NewCmdEval parses flags into EvalOptions; runF replaces runEval in tests.
func NewCmdEval(ios *IOStreams, runF func(*EvalOptions) error) *cobra.Command {
	opts := &EvalOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "eval --model M [--env cartpole-v1] [--episodes N --seed S | --init-states FILE.npz[:array]]",
		Short: "Play greedy episodes with a Q-network and print the returns (mean ± std)",
		Example: `  spikebridge eval --model model.safetensors
  spikebridge eval --model model.safetensors --episodes 20 --seed 7 --json
  spikebridge eval --model model.safetensors --init-states expected.npz:init_states`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.EpisodesSet = cmd.Flags().Changed("episodes")
			if runF != nil {
				return runF(opts)
			}
			return runEval(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Model, "model", "model.safetensors", "model file: ANN or SNN .safetensors written by spikebridge, or PyTorch .pt")
	cmd.Flags().StringVar(&opts.Env, "env", "cartpole-v1", "environment: cartpole-v1 or cartpole-v0")
	cmd.Flags().IntVar(&opts.Episodes, "episodes", 100, "number of episodes (initial states drawn from --seed)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the initial states")
	cmd.Flags().StringVar(&opts.InitStates, "init-states", "", "initial states, one episode per row: FILE.npz[:array] (default array init_states) or FILE.npy")
	cmd.Flags().IntVar(&opts.Timesteps, "timesteps", 0, "SNN model files: timesteps per decision (0 = the file's default)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

// evalResult is the --json document; the eval fields sit at its top level
// (DESIGN.md, "Machine-readable results").
type evalResult struct {
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

func runEval(opts *EvalOptions) error {
	if opts.InitStates != "" && opts.EpisodesSet {
		return usageErrorf("--episodes and --init-states exclude each other: --init-states plays one episode per row")
	}
	if opts.InitStates == "" && (opts.Episodes < 1 || opts.Episodes > maxCLIEpisodes) {
		return usageErrorf("--episodes %d: want 1 to %d", opts.Episodes, maxCLIEpisodes)
	}
	if opts.Timesteps < 0 {
		return usageErrorf("--timesteps %d: want T > 0 (0: the model file's default)", opts.Timesteps)
	}
	if kind, err := formats.ModelKind(opts.Model); err == nil && kind == formats.ModelKindRecurrent {
		return runEvalRecurrent(opts)
	}
	e, err := env.Make(opts.Env)
	if err != nil {
		return usageErrorf("--env: %v", err)
	}
	policy, err := loadPolicy(opts.Model, opts.Timesteps)
	if err != nil {
		return err
	}
	if policy.Inputs != e.ObservationSize() || policy.Outputs != e.NumActions() {
		return fmt.Errorf("model %s maps %d inputs to %d outputs, but %s has %d observations and %d actions",
			opts.Model, policy.Inputs, policy.Outputs, opts.Env, e.ObservationSize(), e.NumActions())
	}
	run := env.RunOptions{Episodes: opts.Episodes, Seed: opts.Seed}
	out := evalResult{Model: opts.Model, Env: opts.Env}
	if opts.InitStates != "" {
		states, err := loadInitStates(opts.InitStates, e.ObservationSize())
		if err != nil {
			return err
		}
		run = env.RunOptions{InitStates: states}
		out.InitStates = opts.InitStates
	} else {
		seed := opts.Seed
		out.Seed = &seed
	}
	res, err := env.Run(e, policy, run)
	if err != nil {
		return err
	}
	if p := policy.SNN; p != nil {
		if p.Err != nil {
			return fmt.Errorf("%s: %w", opts.Model, p.Err)
		}
		c := p.Counters()
		spikes := float64(c.TotalSpikes()) / float64(max(c.Decisions, 1))
		out.Timesteps, out.SpikesPerDecision = &p.T, &spikes
	}
	out.Episodes, out.Returns = len(res.Returns), res.Returns
	out.Mean, out.Std, out.Min, out.Max = returnStats(res.Returns)
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(out)
	}
	returns := make([]string, len(res.Returns))
	for i, r := range res.Returns {
		returns[i] = fmt.Sprint(r)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s on %s, %d greedy episodes: return %.2f ± %.2f (min %g, max %g)\nreturns: %s\n",
		opts.Model, opts.Env, out.Episodes, out.Mean, out.Std, out.Min, out.Max, strings.Join(returns, " "))
	return err
}

// loadInitStates reads initial states, one row per episode, each of width
// values (float64, as the environment takes them).
func loadInitStates(spec string, width int) ([][]float64, error) {
	a, err := formats.LoadArray(spec, "init_states")
	if err != nil {
		return nil, err
	}
	path, _ := formats.SplitArraySpec(spec, "init_states")
	rows, cols, err := a.Matrix()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cols != width || rows == 0 {
		return nil, fmt.Errorf("%s: array %q has shape %v, want (episodes, %d) initial states", path, a.Name, a.Shape, width)
	}
	if rows > maxCLIEpisodes {
		return nil, fmt.Errorf("%s: array %q holds %d initial states (episodes), more than the %d allowed", path, a.Name, rows, maxCLIEpisodes)
	}
	states := make([][]float64, rows)
	for i := range states {
		states[i] = a.Data[i*cols : (i+1)*cols]
		for j, v := range states[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: array %q: row %d, column %d is %v, want a finite number", path, a.Name, i, j, v)
			}
		}
	}
	return states, nil
}

// returnStats gives mean, population std, min and max of returns.
func returnStats(returns []float64) (mean, std, lo, hi float64) {
	if len(returns) == 0 {
		return 0, 0, 0, 0
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, r := range returns {
		mean += r
		lo, hi = min(lo, r), max(hi, r)
	}
	mean /= float64(len(returns))
	for _, r := range returns {
		std += (r - mean) * (r - mean)
	}
	return mean, math.Sqrt(std / float64(len(returns))), lo, hi
}
