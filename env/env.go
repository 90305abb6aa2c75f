package env

import (
	"fmt"
	"strings"
)

// Policy chooses an action for an observation.
type Policy interface {
	Act(obs []float32) int
}

// StepResult is what one Step returns. Obs is owned by the environment and is
// overwritten by the next Step or Reset; copy it to keep it.
type StepResult struct {
	Obs        []float32
	Reward     float64
	Terminated bool // the episode ended in a failure state
	Truncated  bool // the episode hit its step limit
}

// Env is an episodic environment with a discrete action space.
type Env interface {
	ObservationSize() int
	NumActions() int
	// Seed restarts the environment's random stream used by Reset.
	Seed(seed uint64)
	// Reset starts an episode from a state drawn from the seeded stream.
	Reset() []float32
	// ResetTo starts an episode from the given state.
	ResetTo(state []float64) ([]float32, error)
	// Step applies an action; it fails on misuse instead of panicking.
	Step(action int) (StepResult, error)
}

// Make builds an environment from a gym-style id such as "CartPole-v1"
// (case-insensitive).
func Make(id string) (Env, error) {
	name, version, ok := strings.Cut(strings.ToLower(id), "-")
	if !ok || name != "cartpole" {
		return nil, fmt.Errorf("env: unknown environment %q (known: CartPole-v1, CartPole-v0)", id)
	}
	cp, err := NewCartPole(version)
	if err != nil {
		return nil, err
	}
	return cp, nil
}
