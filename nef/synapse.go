package nef

import (
	"fmt"
	"math"
)

// Lowpass is a first-order low-pass synapse discretised for one step size:
// y ← A·y + B·u with A = exp(−dt/τ) and B = 1 − A (Nengo's Lowpass, whose
// output in step k reflects inputs up to step k−1 when read before the
// update). Tau = 0 is no filter: A = 0, B = 1.
type Lowpass struct {
	Tau, A, B float64
}

// NewLowpass discretises a low-pass filter of time constant tau (s) at dt.
func NewLowpass(tau, dt float64) (Lowpass, error) {
	if !(tau >= 0) || math.IsInf(tau, 0) {
		return Lowpass{}, fmt.Errorf("nef: synapse time constant %v s, want >= 0", tau)
	}
	if !(dt > 0) || math.IsInf(dt, 0) {
		return Lowpass{}, fmt.Errorf("nef: time step %v s, want > 0", dt)
	}
	if tau == 0 {
		return Lowpass{Tau: 0, A: 0, B: 1}, nil
	}
	a := math.Exp(-dt / tau)
	return Lowpass{Tau: tau, A: a, B: 1 - a}, nil
}

// Step updates the filter state y in place with input u (same length).
func (f Lowpass) Step(y, u []float64) {
	if len(y) != len(u) {
		panic(fmt.Sprintf("nef: Lowpass.Step: state of %d, input of %d", len(y), len(u)))
	}
	for i, x := range u {
		y[i] = f.A*y[i] + f.B*x
	}
}
