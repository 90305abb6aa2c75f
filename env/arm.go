package env

import "math"

// Arm is a two-link planar arm in the horizontal plane (no gravity) driven
// by joint torques, with the parameters of Li & Todorov (2004):
//
//	M(q) q'' + C(q, q') + B q' = τ
//	M = [[a1 + 2 a2 cos q2, a3 + a2 cos q2], [a3 + a2 cos q2, a3]]
//	C = a2 sin q2 [-q2' (2 q1' + q2'), q1'²]
//	a1 = I1 + I2 + m2 l1², a2 = m2 l1 s2, a3 = I2
//
// State (q1, q2, q1', q2') in radians and rad/s; input (τ1, τ2) in N·m. The
// kinetic energy ½ q'ᵀ M q' changes at the rate τ·q' − q'ᵀ B q'.
type Arm struct {
	// Link masses (kg), lengths (m), centre-of-mass distances (m) and
	// moments of inertia (kg m²).
	M1, M2, L1, L2, S1, S2, I1, I2 float64
	// B is the joint friction matrix (N m s), row-major 2x2.
	B [4]float64
}

// NewArm returns the arm of Li & Todorov (2004).
func NewArm() *Arm {
	return &Arm{M1: 1.4, M2: 1.1, L1: 0.3, L2: 0.33, S1: 0.11, S2: 0.16, I1: 0.025, I2: 0.045,
		B: [4]float64{0.05, 0.025, 0.025, 0.05}}
}

// StateSize is 4: (q1, q2, q1', q2').
func (a *Arm) StateSize() int { return 4 }

// InputSize is 2: (τ1, τ2).
func (a *Arm) InputSize() int { return 2 }

// StateNames names the state elements.
func (a *Arm) StateNames() []string { return []string{"q1", "q2", "dq1", "dq2"} }

// InputNames names the input elements.
func (a *Arm) InputNames() []string { return []string{"tau1", "tau2"} }

func (a *Arm) coefficients() (a1, a2, a3 float64) {
	return a.I1 + a.I2 + a.M2*a.L1*a.L1, a.M2 * a.L1 * a.S2, a.I2
}

// Mass returns the inertia matrix M(q) at elbow angle q2, row-major.
func (a *Arm) Mass(q2 float64) [4]float64 {
	a1, a2, a3 := a.coefficients()
	c := math.Cos(q2)
	return [4]float64{a1 + 2*a2*c, a3 + a2*c, a3 + a2*c, a3}
}

// KineticEnergy is ½ q'ᵀ M(q) q' of a state.
func (a *Arm) KineticEnergy(state []float64) float64 {
	m := a.Mass(state[1])
	d1, d2 := state[2], state[3]
	return 0.5 * (d1*(m[0]*d1+m[1]*d2) + d2*(m[2]*d1+m[3]*d2))
}

// Deriv writes the time derivative of state under torques u into dst.
func (a *Arm) Deriv(dst, state, u []float64) {
	_, a2, _ := a.coefficients()
	q2, d1, d2 := state[1], state[2], state[3]
	m := a.Mass(q2)
	s := math.Sin(q2)
	// Right-hand side τ − C − B q'.
	r1 := u[0] + a2*s*d2*(2*d1+d2) - (a.B[0]*d1 + a.B[1]*d2)
	r2 := u[1] - a2*s*d1*d1 - (a.B[2]*d1 + a.B[3]*d2)
	det := m[0]*m[3] - m[1]*m[2]
	dst[0] = d1
	dst[1] = d2
	dst[2] = (m[3]*r1 - m[1]*r2) / det
	dst[3] = (-m[2]*r1 + m[0]*r2) / det
}

// InitialState draws the angles uniformly from [-π/2, π/2] (shoulder) and
// [0.2, 2.6] (elbow, away from the singular straight arm) and the velocities
// from [-1, 1] rad/s.
func (a *Arm) InitialState(dst []float64, uniform func() float64) {
	dst[0] = math.Pi * (uniform() - 0.5)
	dst[1] = 0.2 + 2.4*uniform()
	dst[2] = 2*uniform() - 1
	dst[3] = 2*uniform() - 1
}
