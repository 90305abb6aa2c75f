package env

import (
	"errors"
	"fmt"
	"math"
)

// RunOptions configures Run.
type RunOptions struct {
	// Episodes to run; 0 with InitStates means one episode per initial state.
	Episodes int
	// Seed seeds the environment once before the first Reset (as gym's
	// env.reset(seed=Seed) on the first episode); unused with InitStates.
	Seed uint64
	// InitStates, if given, are the initial states of the episodes, one each.
	InitStates [][]float64
	// RecordStates keeps every observation acted on, the actions and episode starts.
	RecordStates bool
}

// Result is what Run measured.
type Result struct {
	Returns []float64 // undiscounted return of each episode, in order
	Lengths []int     // steps of each episode

	// Filled only with RecordStates: every observation a policy acted on (copied),
	// the action it chose, and the index into States where each episode begins.
	States        [][]float32
	Actions       []int
	EpisodeStarts []int
}

// maxRunEpisodes bounds Episodes so a typo cannot allocate without limit.
const maxRunEpisodes = 1 << 24

// Run plays whole episodes of policy p on e. An episode ends when the environment
// reports Terminated or Truncated.
func Run(e Env, p Policy, opts RunOptions) (Result, error) {
	if e == nil {
		return Result{}, errors.New("env: Run: nil environment")
	}
	if p == nil {
		return Result{}, errors.New("env: Run: nil policy")
	}
	episodes := opts.Episodes
	switch {
	case episodes < 0:
		return Result{}, fmt.Errorf("env: Run: %d episodes, want >= 0", episodes)
	case episodes > maxRunEpisodes:
		return Result{}, fmt.Errorf("env: Run: %d episodes, want at most %d", episodes, maxRunEpisodes)
	case len(opts.InitStates) > 0 && episodes == 0:
		episodes = len(opts.InitStates)
	case len(opts.InitStates) > 0 && episodes != len(opts.InitStates):
		return Result{}, fmt.Errorf("env: Run: %d episodes but %d initial states; give one per episode",
			episodes, len(opts.InitStates))
	case episodes == 0:
		return Result{}, errors.New("env: Run: 0 episodes and no initial states")
	}

	res := Result{Returns: make([]float64, episodes), Lengths: make([]int, episodes)}
	if len(opts.InitStates) == 0 {
		e.Seed(opts.Seed)
	}
	for ep := 0; ep < episodes; ep++ {
		var obs []float32
		if len(opts.InitStates) > 0 {
			var err error
			if obs, err = e.ResetTo(opts.InitStates[ep]); err != nil {
				return Result{}, fmt.Errorf("env: Run: episode %d: %w", ep, err)
			}
		} else {
			obs = e.Reset()
		}
		if opts.RecordStates {
			res.EpisodeStarts = append(res.EpisodeStarts, len(res.States))
		}
		total := 0.0
		for steps := 1; ; steps++ {
			action := p.Act(obs)
			if opts.RecordStates {
				res.States = append(res.States, append([]float32(nil), obs...))
				res.Actions = append(res.Actions, action)
			}
			sr, err := e.Step(action)
			if err != nil {
				return Result{}, fmt.Errorf("env: Run: episode %d, step %d: %w", ep, steps, err)
			}
			total += sr.Reward
			obs = sr.Obs
			if sr.Terminated || sr.Truncated {
				res.Lengths[ep] = steps
				break
			}
			if steps == math.MaxInt32 {
				return Result{}, fmt.Errorf("env: Run: episode %d did not end after %d steps", ep, steps)
			}
		}
		res.Returns[ep] = total
	}
	return res, nil
}
