package env

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// DrivenSystem is a continuous-time dynamical system x' = f(x, u) with a
// state of StateSize and an input of InputSize elements. VanDerPol and Arm
// are the built-in ones that probe data sets are generated from.
type DrivenSystem interface {
	StateSize() int
	InputSize() int
	StateNames() []string
	InputNames() []string
	// Deriv writes f(state, u) into dst (len StateSize).
	Deriv(dst, state, u []float64)
	// InitialState draws a starting state from uniform(0, 1) numbers.
	InitialState(dst []float64, uniform func() float64)
}

// ProbeConfig sets up a probe recording of a DrivenSystem.
type ProbeConfig struct {
	Trials   int
	Duration float64 // seconds per trial
	Dt       float64 // sampling interval (s)
	// Substeps is the number of RK4 steps per Dt (10 if 0).
	Substeps int
	Seed     uint64
	// InputStd is the stationary standard deviation of every input and
	// InputTau its correlation time (s): u is an Ornstein-Uhlenbeck process
	// sampled exactly at Dt and held constant over each interval.
	InputStd, InputTau float64
}

// DefaultVanDerPolProbe and DefaultArmProbe are the settings the built-in
// generators use unless told otherwise.
func DefaultVanDerPolProbe() ProbeConfig {
	return ProbeConfig{Trials: 60, Duration: 20, Dt: 0.05, Substeps: 10, Seed: 1, InputStd: 0.5, InputTau: 0.5}
}

// DefaultArmProbe: torques of 0.2 N m with a 0.1 s correlation time.
func DefaultArmProbe() ProbeConfig {
	return ProbeConfig{Trials: 100, Duration: 5, Dt: 0.01, Substeps: 10, Seed: 1, InputStd: 0.2, InputTau: 0.1}
}

// ProbeRecording holds trials of a simulated system, row-major:
// Inputs (Trials, Steps, InputSize) and States (Trials, Steps, StateSize).
// States[t, k] is the state at time k Dt and Inputs[t, k] the input held
// over [k Dt, (k+1) Dt), so (States[k], Inputs[k]) determines States[k+1].
type ProbeRecording struct {
	Trials, Steps, InputSize, StateSize int
	Dt                                  float64
	Inputs, States                      []float64
	InputNames, StateNames              []string
}

// Steps returns the number of samples per trial: round(Duration / Dt).
func (c ProbeConfig) Steps() int { return int(math.Round(c.Duration / c.Dt)) }

// Check reports the first invalid setting.
func (c ProbeConfig) Check() error {
	switch {
	case c.Trials <= 0:
		return fmt.Errorf("env: probe: %d trials, want > 0", c.Trials)
	case !(c.Dt > 0) || math.IsInf(c.Dt, 0):
		return fmt.Errorf("env: probe: dt %v, want a positive number of seconds", c.Dt)
	case !(c.Duration >= c.Dt) || math.IsInf(c.Duration, 0):
		return fmt.Errorf("env: probe: duration %v s, want at least one dt (%v s)", c.Duration, c.Dt)
	case c.Substeps < 0:
		return fmt.Errorf("env: probe: %d substeps, want >= 0 (0 = 10)", c.Substeps)
	case !(c.InputStd >= 0) || math.IsInf(c.InputStd, 0):
		return fmt.Errorf("env: probe: input std %v, want >= 0", c.InputStd)
	case c.InputStd > 0 && (!(c.InputTau > 0) || math.IsInf(c.InputTau, 0)):
		return fmt.Errorf("env: probe: input correlation time %v s, want > 0", c.InputTau)
	case c.Steps() > 10_000_000/c.Trials:
		return fmt.Errorf("env: probe: %d trials of %d steps is more than 10 million samples", c.Trials, c.Steps())
	}
	return nil
}

// Integrator advances a DrivenSystem with the classic fourth-order
// Runge-Kutta method; its buffers are reused so Step allocates nothing.
type Integrator struct {
	sys                 DrivenSystem
	k1, k2, k3, k4, tmp []float64
}

// NewIntegrator returns an RK4 integrator for sys.
func NewIntegrator(sys DrivenSystem) *Integrator {
	n := sys.StateSize()
	return &Integrator{sys: sys, k1: make([]float64, n), k2: make([]float64, n), k3: make([]float64, n),
		k4: make([]float64, n), tmp: make([]float64, n)}
}

// Step advances state in place by h under the constant input u.
func (it *Integrator) Step(state, u []float64, h float64) {
	f := it.sys.Deriv
	f(it.k1, state, u)
	for i := range state {
		it.tmp[i] = state[i] + 0.5*h*it.k1[i]
	}
	f(it.k2, it.tmp, u)
	for i := range state {
		it.tmp[i] = state[i] + 0.5*h*it.k2[i]
	}
	f(it.k3, it.tmp, u)
	for i := range state {
		it.tmp[i] = state[i] + h*it.k3[i]
	}
	f(it.k4, it.tmp, u)
	for i := range state {
		state[i] += h / 6 * (it.k1[i] + 2*it.k2[i] + 2*it.k3[i] + it.k4[i])
	}
}

// Advance integrates state over dt in substeps RK4 steps under constant u.
func (it *Integrator) Advance(state, u []float64, dt float64, substeps int) {
	h := dt / float64(substeps)
	for s := 0; s < substeps; s++ {
		it.Step(state, u, h)
	}
}

// GenerateProbe simulates cfg.Trials trials of sys from seeded initial
// states under seeded filtered-noise inputs. Trial t draws from its own PCG
// stream (cfg.Seed, t), so a trial does not depend on how many come before.
func GenerateProbe(sys DrivenSystem, cfg ProbeConfig) (*ProbeRecording, error) {
	if sys == nil {
		return nil, errors.New("env: probe: no system")
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	substeps := cfg.Substeps
	if substeps == 0 {
		substeps = 10
	}
	steps := cfg.Steps()
	ns, ni := sys.StateSize(), sys.InputSize()
	rec := &ProbeRecording{Trials: cfg.Trials, Steps: steps, InputSize: ni, StateSize: ns, Dt: cfg.Dt,
		Inputs: make([]float64, cfg.Trials*steps*ni), States: make([]float64, cfg.Trials*steps*ns),
		InputNames: sys.InputNames(), StateNames: sys.StateNames()}
	it := NewIntegrator(sys)
	state := make([]float64, ns)
	u := make([]float64, ni)
	decay := 0.0
	if cfg.InputStd > 0 {
		decay = math.Exp(-cfg.Dt / cfg.InputTau)
	}
	innovation := cfg.InputStd * math.Sqrt(1-decay*decay)
	for t := 0; t < cfg.Trials; t++ {
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(t)))
		sys.InitialState(state, rng.Float64)
		for i := range u {
			u[i] = cfg.InputStd * rng.NormFloat64()
		}
		for k := 0; k < steps; k++ {
			base := t*steps + k
			copy(rec.States[base*ns:(base+1)*ns], state)
			copy(rec.Inputs[base*ni:(base+1)*ni], u)
			it.Advance(state, u, cfg.Dt, substeps)
			for i := range u {
				u[i] = decay*u[i] + innovation*rng.NormFloat64()
			}
		}
		for i, v := range state {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("env: probe: trial %d: state %s diverged to %v (lower the input or dt)", t, rec.StateNames[i], v)
			}
		}
	}
	return rec, nil
}
