// Package env holds reinforcement-learning environments behind one small
// interface (Env) and an episode runner (Run) for any Policy.
//
// CartPole (versions "v1": 500 steps, "v0": 200 steps) reproduces gym's classic
// CartPole and ../shared/reference/cartpole.py: Euler integration of a float64
// state (x, x_dot, theta, theta_dot), float32 observations, failure when
// |theta| > 12 degrees or |x| > 2.4, reward 1 per step including the failing step,
// truncation at the version's step limit. Given the same initial state and actions,
// every observation is bit-identical to the reference's; sin and cos are evaluated
// as Python's math module (glibc) does, since Go's math.Sin/Cos round differently.
//
// Randomness is always seeded: Seed(s) followed by Reset() draws the initial state
// exactly as numpy's np.random.default_rng(s).uniform(-0.05, 0.05, size=4), and
// later Reset calls continue that stream, as the reference does.
//
// Step allocates nothing: StepResult.Obs is a slice owned by the environment and
// overwritten by the next Step or Reset. Misuse (Step before Reset, a bad action,
// stepping a finished episode, a malformed ResetTo state) returns an error.
//
// Beside CartPole: the driven dynamical systems that probe data is recorded
// from (DrivenSystem: the van der Pol oscillator, Li and Todorov's two-link
// arm), integrated with RK4 under seeded filtered-noise inputs
// (vanderpol_simulate.go), and the evidence-accumulation task of e-prop
// (evidence.go).
package env
