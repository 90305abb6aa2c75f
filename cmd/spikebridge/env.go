package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/env"
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

// maxCLIEpisodes bounds --episodes so a typo cannot run for hours.
const maxCLIEpisodes = 10_000_000

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
			if runF != nil {
				return runF(opts)
			}
			return runEnvCartPole(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Version, "version", "v1", "CartPole version: v1 (500 steps) or v0 (200 steps)")
	cmd.Flags().IntVar(&opts.Episodes, "episodes", 100, "number of episodes")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the initial states (and of the random policy)")
	cmd.Flags().StringVar(&opts.Policy, "policy", "random", "policy: random or upright (push toward where the pole is falling)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON document instead of a line of text")
	return cmd
}

// envCartPoleResult is the --json document.
type envCartPoleResult struct {
	Env      string    `json:"env"`
	Policy   string    `json:"policy"`
	Episodes int       `json:"episodes"`
	Seed     uint64    `json:"seed"`
	Returns  []float64 `json:"returns"`
	Mean     float64   `json:"mean"`
	Std      float64   `json:"std"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
}

func runEnvCartPole(opts *EnvCartPoleOptions) error {
	if opts.Version != "v1" && opts.Version != "v0" {
		return usageErrorf("--version %q: want v1 or v0", opts.Version)
	}
	if opts.Episodes < 1 || opts.Episodes > maxCLIEpisodes {
		return usageErrorf("--episodes %d: want 1 to %d", opts.Episodes, maxCLIEpisodes)
	}
	var policy env.Policy
	switch opts.Policy {
	case "random":
		policy = env.NewRandomPolicy(opts.Seed)
	case "upright":
		policy = env.UprightPolicy{}
	default:
		return usageErrorf("--policy %q: want random or upright", opts.Policy)
	}
	cp, err := env.NewCartPole(opts.Version)
	if err != nil {
		return err
	}
	res, err := env.Run(cp, policy, env.RunOptions{Episodes: opts.Episodes, Seed: opts.Seed})
	if err != nil {
		return err
	}
	out := envCartPoleResult{
		Env: cp.Name(), Policy: opts.Policy, Episodes: opts.Episodes, Seed: opts.Seed,
		Returns: res.Returns, Min: math.Inf(1), Max: math.Inf(-1),
	}
	for _, r := range res.Returns {
		out.Mean += r
		out.Min = min(out.Min, r)
		out.Max = max(out.Max, r)
	}
	out.Mean /= float64(len(res.Returns))
	for _, r := range res.Returns {
		out.Std += (r - out.Mean) * (r - out.Mean)
	}
	out.Std = math.Sqrt(out.Std / float64(len(res.Returns))) // population std, as numpy's default

	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		return enc.Encode(out)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s, %s policy, %d episodes (seed %d): return %.1f ± %.1f (min %g, max %g)\n",
		out.Env, out.Policy, out.Episodes, out.Seed, out.Mean, out.Std, out.Min, out.Max)
	return err
}
