package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// EvalOptions holds the flags of `spikebridge eval`.
type EvalOptions struct {
	workflow.EvalOptions
	IO *IOStreams
	// EpisodesSet records that --episodes was given (it conflicts with
	// --init-states).
	EpisodesSet bool
	JSON        bool
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
			return runVerb(runF, runEval, opts)
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

func runEval(opts *EvalOptions) error {
	if opts.InitStates != "" && opts.EpisodesSet {
		return usageErrorf("--episodes and --init-states exclude each other: --init-states plays one episode per row")
	}
	if kind, err := formats.ModelKind(opts.Model); err == nil && kind == formats.ModelKindRecurrent {
		// A recurrent (e-prop) model plays --episodes fresh trials of its task, drawn from --seed.
		out, err := workflow.EvalRecurrent(opts.EvalOptions)
		if err != nil {
			return flagErr(err)
		}
		return printResult(opts.IO, opts.JSON, out, out.WriteText)
	}
	out, err := workflow.Eval(opts.EvalOptions)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, out, out.WriteText)
}
