package workflow

import (
	"fmt"
	"io"

	"github.com/spikebridge/spikebridge/env"
)

// CartPoleOptions says which baseline policy plays which CartPole episodes
// (`spikebridge env cartpole`).
type CartPoleOptions struct {
	Version  string // v1 (500 steps) or v0 (200 steps)
	Policy   string // random, or upright (push toward where the pole is falling)
	Episodes int    // 1 to MaxEpisodes
	Seed     uint64 // initial states and the random policy
}

// CartPoleResult is what PlayCartPole measured.
type CartPoleResult struct {
	Env      string    `json:"env"`
	Policy   string    `json:"policy"`
	Episodes int       `json:"episodes"`
	Seed     uint64    `json:"seed"`
	Returns  []float64 `json:"returns"`
	Mean     float64   `json:"mean"`
	Std      float64   `json:"std"` // population std, as numpy's default
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
}

// WriteText writes the result for people: one line.
func (r CartPoleResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s, %s policy, %d episodes (seed %d): return %.1f ± %.1f (min %g, max %g)\n",
		r.Env, r.Policy, r.Episodes, r.Seed, r.Mean, r.Std, r.Min, r.Max)
	return err
}

// PlayCartPole plays opts' episodes with a baseline policy.
func PlayCartPole(opts CartPoleOptions) (CartPoleResult, error) {
	if opts.Version != "v1" && opts.Version != "v0" {
		return CartPoleResult{}, invalidf("{Version} %q: want v1 or v0", opts.Version)
	}
	if opts.Episodes < 1 || opts.Episodes > MaxEpisodes {
		return CartPoleResult{}, invalidf("{Episodes} %d: want 1 to %d", opts.Episodes, MaxEpisodes)
	}
	var policy env.Policy
	switch opts.Policy {
	case "random":
		policy = env.NewRandomPolicy(opts.Seed)
	case "upright":
		policy = env.UprightPolicy{}
	default:
		return CartPoleResult{}, invalidf("{Policy} %q: want random or upright", opts.Policy)
	}
	cp, err := env.NewCartPole(opts.Version)
	if err != nil {
		return CartPoleResult{}, err
	}
	res, err := env.Run(cp, policy, env.RunOptions{Episodes: opts.Episodes, Seed: opts.Seed})
	if err != nil {
		return CartPoleResult{}, err
	}
	out := CartPoleResult{Env: cp.Name(), Policy: opts.Policy, Episodes: opts.Episodes, Seed: opts.Seed, Returns: res.Returns}
	out.Mean, out.Std, out.Min, out.Max = env.ReturnStats(res.Returns)
	return out, nil
}
