package env

import (
	"errors"
	"fmt"
	"math"
)

// CartPole physics, as in gym's classic_control/cartpole.py. Every value equals the
// float64 that the Python reference computes for it (0.1+1.0 == 1.1 and
// 0.1*0.5 == 0.05 hold in float64; the threshold is 12*2*pi/360 evaluated left to
// right, see TestCartPoleConstants).
const (
	gravity        = 9.8
	massPole       = 0.1
	totalMass      = 1.1  // massPole + massCart (1.0)
	halfPoleLength = 0.5  // gym's "length"
	poleMassLength = 0.05 // massPole * halfPoleLength
	forceMag       = 10.0
	tauSeconds     = 0.02
	thetaThreshold = 0x1.acee9f37bebd5p-3 // 12 degrees in radians
	xThreshold     = 2.4
	initHalfWidth  = 0.05 // reset draws each state variable from U(-0.05, 0.05)
)

// cartPoleMaxSteps is the episode length of a registered version (gym's TimeLimit).
func cartPoleMaxSteps(version string) (int, bool) {
	switch version {
	case "v1":
		return 500, true
	case "v0":
		return 200, true
	}
	return 0, false
}

const cartPoleStateSize = 4

// ErrNotReset is returned by Step before the first Reset or ResetTo.
var ErrNotReset = errors.New("env: step called before reset")

// ErrEpisodeDone is returned by Step after the episode terminated or was truncated.
var ErrEpisodeDone = errors.New("env: step called on a finished episode; call reset")

// CartPole is gym's CartPole-v1 / -v0 with bit-exact dynamics. It is not safe for
// concurrent use.
type CartPole struct {
	version  string
	maxSteps int
	rng      numpyRNG

	state   [cartPoleStateSize]float64 // x, x_dot, theta, theta_dot
	obs     [cartPoleStateSize]float32
	steps   int
	started bool
	done    bool
}

// NewCartPole returns CartPole "v1" (500-step episodes) or "v0" (200). Its random
// stream starts as if Seed(0) had been called.
func NewCartPole(version string) (*CartPole, error) {
	maxSteps, ok := cartPoleMaxSteps(version)
	if !ok {
		return nil, fmt.Errorf("env: CartPole version %q: want \"v1\" or \"v0\"", version)
	}
	return &CartPole{version: version, maxSteps: maxSteps, rng: newNumpyRNG(0)}, nil
}

// Name is the gym id, e.g. "CartPole-v1".
func (c *CartPole) Name() string { return "CartPole-" + c.version }

// MaxSteps is the episode length at which Step reports Truncated.
func (c *CartPole) MaxSteps() int { return c.maxSteps }

// ObservationSize is 4: cart position, cart velocity, pole angle, pole angular velocity.
func (c *CartPole) ObservationSize() int { return cartPoleStateSize }

// NumActions is 2: 0 pushes the cart left, 1 pushes it right.
func (c *CartPole) NumActions() int { return 2 }

// Seed restarts the initial-state stream as np.random.default_rng(seed).
func (c *CartPole) Seed(seed uint64) { c.rng.seed(seed) }

// State returns the current float64 state (x, x_dot, theta, theta_dot).
func (c *CartPole) State() [4]float64 { return c.state }

// Reset starts an episode from four draws of U(-0.05, 0.05) from the seeded stream
// and returns the observation (owned by c, overwritten by the next Step or Reset).
func (c *CartPole) Reset() []float32 {
	for i := range c.state {
		c.state[i] = c.rng.uniform(-initHalfWidth, initHalfWidth)
	}
	return c.start()
}

// ResetTo starts an episode from the given finite state (x, x_dot, theta, theta_dot).
func (c *CartPole) ResetTo(state []float64) ([]float32, error) {
	if len(state) != cartPoleStateSize {
		return nil, fmt.Errorf("env: %s: ResetTo: state has %d values, want %d (x, x_dot, theta, theta_dot)",
			c.Name(), len(state), cartPoleStateSize)
	}
	for i, v := range state {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("env: %s: ResetTo: state[%d] = %v, want a finite value", c.Name(), i, v)
		}
	}
	copy(c.state[:], state)
	return c.start(), nil
}

func (c *CartPole) start() []float32 {
	c.steps = 0
	c.started = true
	c.done = false
	c.fillObs()
	return c.obs[:]
}

func (c *CartPole) fillObs() {
	for i, v := range c.state {
		c.obs[i] = float32(v)
	}
}

// Step pushes the cart left (0) or right (1) for one 0.02 s Euler step.
func (c *CartPole) Step(action int) (StepResult, error) {
	if !c.started {
		return StepResult{}, ErrNotReset
	}
	if c.done {
		return StepResult{}, ErrEpisodeDone
	}
	if action != 0 && action != 1 {
		return StepResult{}, fmt.Errorf("env: %s: action %d out of range [0, 2)", c.Name(), action)
	}
	c.state = cartPoleDynamics(c.state, action)
	c.steps++
	x, theta := c.state[0], c.state[2]
	terminated := x < -xThreshold || x > xThreshold || theta < -thetaThreshold || theta > thetaThreshold
	truncated := c.steps >= c.maxSteps
	c.done = terminated || truncated
	c.fillObs()
	return StepResult{Obs: c.obs[:], Reward: 1, Terminated: terminated, Truncated: truncated}, nil
}

// cartPoleDynamics is one Euler step of gym's equations, in the reference's order of
// operations. The float64 conversions forbid fused multiply-adds, which Go may
// otherwise use on some architectures and Python does not.
func cartPoleDynamics(s [4]float64, action int) [4]float64 {
	x, xDot, theta, thetaDot := s[0], s[1], s[2], s[3]
	force := -forceMag
	if action == 1 {
		force = forceMag
	}
	cosTheta := cosPy(theta)
	sinTheta := sinPy(theta)

	// Python's x ** 2 goes through libm's pow, which rounds x*x differently about
	// once in a thousand squares; here the square is the exactly rounded x*x.
	thetaDotSq := float64(thetaDot * thetaDot)
	cosThetaSq := float64(cosTheta * cosTheta)

	temp := (force + float64(float64(poleMassLength*thetaDotSq)*sinTheta)) / totalMass
	denom := float64(halfPoleLength * (4.0/3.0 - float64(massPole*cosThetaSq)/totalMass))
	thetaAcc := (float64(gravity*sinTheta) - float64(cosTheta*temp)) / denom
	xAcc := temp - float64(float64(poleMassLength*thetaAcc)*cosTheta)/totalMass

	return [4]float64{
		x + float64(tauSeconds*xDot),
		xDot + float64(tauSeconds*xAcc),
		theta + float64(tauSeconds*thetaDot),
		thetaDot + float64(tauSeconds*thetaAcc),
	}
}
