package env

import (
	"math"
	"testing"
)

// Without friction or torque the kinetic energy is conserved.
func TestArmConservesEnergy(t *testing.T) {
	arm := NewArm()
	arm.B = [4]float64{}
	it := NewIntegrator(arm)
	state := []float64{0.3, 1.1, 2.0, -3.0}
	e0 := arm.KineticEnergy(state)
	u := []float64{0, 0}
	for k := 0; k < 500; k++ {
		it.Advance(state, u, 0.01, 10)
	}
	if e := arm.KineticEnergy(state); math.Abs(e-e0) > 1e-9*e0 {
		t.Errorf("energy %.12f after 5 s, %.12f at the start", e, e0)
	}
}

// Energy balance: E(T) - E(0) = ∫ (τ·q' − q'ᵀ B q') dt under constant torque.
func TestArmPowerBalance(t *testing.T) {
	arm := NewArm()
	it := NewIntegrator(arm)
	state := []float64{-0.4, 0.9, 0.5, 1.0}
	u := []float64{0.15, -0.1}
	power := func(s []float64) float64 {
		d1, d2 := s[2], s[3]
		return u[0]*d1 + u[1]*d2 - (d1*(arm.B[0]*d1+arm.B[1]*d2) + d2*(arm.B[2]*d1+arm.B[3]*d2))
	}
	e0 := arm.KineticEnergy(state)
	const h = 1e-4
	work := 0.0
	for k := 0; k < 20000; k++ {
		p0 := power(state)
		it.Step(state, u, h)
		work += 0.5 * h * (p0 + power(state)) // trapezoid, O(h²)
	}
	if got := arm.KineticEnergy(state) - e0; math.Abs(got-work) > 1e-7 {
		t.Errorf("energy change %.10f, work %.10f", got, work)
	}
}

// Deriv agrees with the Euler-Lagrange equations of L = ½ q'ᵀ M(q) q',
// M'(q) and ∂L/∂q taken by central differences of Mass alone:
// M q” + (dM/dt) q' − ∂L/∂q = τ − B q'.
func TestArmEulerLagrange(t *testing.T) {
	arm := NewArm()
	state := []float64{0.7, 1.3, -1.2, 2.1}
	u := []float64{0.3, -0.2}
	d := make([]float64, 4)
	arm.Deriv(d, state, u)
	q2, d1, d2 := state[1], state[2], state[3]
	const eps = 1e-6
	mp, mm := arm.Mass(q2+eps), arm.Mass(q2-eps)
	var dM [4]float64
	for i := range dM {
		dM[i] = (mp[i] - mm[i]) / (2 * eps)
	}
	m := arm.Mass(q2)
	lhs1 := m[0]*d[2] + m[1]*d[3] + d2*(dM[0]*d1+dM[1]*d2)
	lhs2 := m[2]*d[2] + m[3]*d[3] + d2*(dM[2]*d1+dM[3]*d2) - 0.5*(d1*(dM[0]*d1+dM[1]*d2)+d2*(dM[2]*d1+dM[3]*d2))
	rhs1 := u[0] - (arm.B[0]*d1 + arm.B[1]*d2)
	rhs2 := u[1] - (arm.B[2]*d1 + arm.B[3]*d2)
	if math.Abs(lhs1-rhs1) > 1e-8 || math.Abs(lhs2-rhs2) > 1e-8 {
		t.Errorf("Euler-Lagrange residuals %.3g, %.3g", lhs1-rhs1, lhs2-rhs2)
	}
}

// RK4 converges at fourth order: halving the step divides the error by ~16.
func TestArmRK4Order(t *testing.T) {
	arm := NewArm()
	run := func(substeps int) []float64 {
		it := NewIntegrator(arm)
		s := []float64{0.2, 1.0, 3.0, -4.0}
		for k := 0; k < 20; k++ {
			it.Advance(s, []float64{0.5, -0.5}, 0.05, substeps)
		}
		return s
	}
	exact := run(256)
	errAt := func(n int) float64 {
		s := run(n)
		e := 0.0
		for i := range s {
			e = max(e, math.Abs(s[i]-exact[i]))
		}
		return e
	}
	ratio := errAt(4) / errAt(8)
	if ratio < 12 || ratio > 20 {
		t.Errorf("error ratio for halving the step %.2f, want ~16", ratio)
	}
}

func TestArmProbeShapes(t *testing.T) {
	cfg := DefaultArmProbe()
	cfg.Trials, cfg.Duration = 2, 0.5
	rec, err := GenerateProbe(NewArm(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Steps != 50 || len(rec.States) != 2*50*4 || len(rec.Inputs) != 2*50*2 {
		t.Fatalf("steps %d, %d state and %d input values", rec.Steps, len(rec.States), len(rec.Inputs))
	}
	// Consecutive samples follow the integrator exactly.
	it := NewIntegrator(NewArm())
	s := append([]float64(nil), rec.States[:4]...)
	it.Advance(s, rec.Inputs[:2], cfg.Dt, cfg.Substeps)
	for i := range s {
		if s[i] != rec.States[4+i] {
			t.Fatalf("state %d after one step %v, recorded %v", i, s[i], rec.States[4+i])
		}
	}
}
