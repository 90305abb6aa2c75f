package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/workflow"
)

// RecordOptions holds the flags of `spikebridge record`.
type RecordOptions struct {
	IO *IOStreams
	workflow.RecordOptions
	JSON bool
}

// NewCmdRecord parses flags into RecordOptions; runF replaces runRecord in tests.
func NewCmdRecord(ios *IOStreams, runF func(*RecordOptions) error) *cobra.Command {
	opts := &RecordOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "record --model M [--env cartpole-v1] [--episodes N] [--seed S] [--epsilon 0.2] -o states.npz",
		Short: "Play episodes with a Q-network and record the states, its Q-values and actions (.npz)",
		Long: `Play episodes with a Q-network (spikebridge .safetensors or PyTorch .pt) and record
every state acted on with the network's Q-values and greedy action. --epsilon mixes in
that share of uniformly random actions, so the states cover what a slightly wrong
policy visits (the data set that distillation and calibration need).

The .npz holds states (rows, obs) float32, q (rows, actions) float32, actions (the
network's argmax), taken (the applied action), init_states (episodes, 4) float64,
returns and episode_starts.`,
		Example: "  spikebridge record --model policy.pt --episodes 60 --seed 1 --epsilon 0.2 -o states.npz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE.npz is required")
			}
			return runVerb(runF, runRecord, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "model.safetensors", "Q-network (.safetensors or PyTorch .pt)")
	f.StringVar(&opts.Env, "env", "cartpole-v1", "environment: cartpole-v1 or cartpole-v0")
	f.IntVar(&opts.Episodes, "episodes", 60, "episodes to record")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the initial states and of the random actions")
	f.Float64Var(&opts.Epsilon, "epsilon", 0, "share of uniformly random actions mixed in (0..1)")
	f.StringVarP(&opts.Out, "output", "o", "", "output .npz file")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

func runRecord(opts *RecordOptions) error {
	res, err := workflow.Record(opts.RecordOptions)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
