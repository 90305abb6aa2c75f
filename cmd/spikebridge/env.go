package main

import (
	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/workflow"
)

// EnvCartPoleOptions holds the flags of `spikebridge env cartpole`.
type EnvCartPoleOptions struct {
	IO       *IOStreams
	Version  string
	Episodes int
	Seed     uint64
	Policy   string
	JSON     bool
}

// NewCmdEnv builds `spikebridge env`, the parent of the built-in environments' verbs.
func NewCmdEnv(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Run the built-in environments with baseline policies",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdEnvCartPole(ios, nil))
	return cmd
}

// NewCmdEnvCartPole parses flags into EnvCartPoleOptions; runF replaces runEnvCartPole in tests.
func NewCmdEnvCartPole(ios *IOStreams, runF func(*EnvCartPoleOptions) error) *cobra.Command {
	opts := &EnvCartPoleOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "cartpole",
		Short: "Play CartPole episodes with a random or a hand-written policy and print the returns",
		Example: `  spikebridge env cartpole
  spikebridge env cartpole --version v0 --policy upright --episodes 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerb(runF, runEnvCartPole, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "version", "v1", "CartPole version: v1 (500 steps) or v0 (200 steps)")
	cmd.Flags().IntVar(&opts.Episodes, "episodes", 100, "number of episodes")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the initial states (and of the random policy)")
	cmd.Flags().StringVar(&opts.Policy, "policy", "random", "policy: random or upright (push toward where the pole is falling)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document instead of a line of text")
	return cmd
}

func runEnvCartPole(opts *EnvCartPoleOptions) error {
	out, err := workflow.PlayCartPole(workflow.CartPoleOptions{Version: opts.Version, Policy: opts.Policy, Episodes: opts.Episodes, Seed: opts.Seed})
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, out, out.WriteText)
}
