package env

import "math/rand/v2"

// RandomPolicy picks 0 or 1 uniformly from its own seeded PCG stream (a baseline;
// it ignores the observation).
type RandomPolicy struct {
	rng *rand.Rand
}

// NewRandomPolicy returns a RandomPolicy whose choices depend only on seed.
func NewRandomPolicy(seed uint64) *RandomPolicy {
	return &RandomPolicy{rng: rand.New(rand.NewPCG(seed, 0x5eed_0f_a11ce))}
}

// Act returns 0 or 1 at random.
func (p *RandomPolicy) Act([]float32) int { return int(p.rng.Uint64() >> 63) }

// UprightPolicy is a hand-written CartPole controller: it pushes the cart under the
// pole in the direction the pole is falling, judged by the angle plus a look-ahead
// on the angular velocity (action 1 when theta + 0.5*theta_dot > 0). It ignores
// the cart's position; from gym's initial states the drift stays inside the track
// for 500 steps (TestUprightPolicy).
type UprightPolicy struct{}

// Act reads theta (obs[2]) and theta_dot (obs[3]) of a CartPole observation.
func (UprightPolicy) Act(obs []float32) int {
	if obs[2]+0.5*obs[3] > 0 {
		return 1
	}
	return 0
}
