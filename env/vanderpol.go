package env

// VanDerPol is the driven van der Pol oscillator
//
//	x' = y,  y' = Mu (1 - x²) y - x + u(t)
//
// with state (x, y) and one input u. Unforced (u = 0) every trajectory but the
// origin approaches the limit cycle, of period ≈ 6.6633 and amplitude ≈ 2.009
// in x for Mu = 1.
type VanDerPol struct {
	Mu float64
}

// NewVanDerPol returns the oscillator with damping mu (1 is the usual choice).
func NewVanDerPol(mu float64) *VanDerPol { return &VanDerPol{Mu: mu} }

// StateSize is 2: (x, y).
func (v *VanDerPol) StateSize() int { return 2 }

// InputSize is 1: the force u.
func (v *VanDerPol) InputSize() int { return 1 }

// StateNames names the state elements.
func (v *VanDerPol) StateNames() []string { return []string{"x", "y"} }

// InputNames names the input elements.
func (v *VanDerPol) InputNames() []string { return []string{"u"} }

// Deriv writes the time derivative of state under input u into dst.
func (v *VanDerPol) Deriv(dst, state, u []float64) {
	x, y := state[0], state[1]
	dst[0] = y
	dst[1] = v.Mu*(1-x*x)*y - x + u[0]
}

// InitialState draws x and y uniformly from [-3, 3] with uniform(0, 1)
// draws r: state = 6 r - 3.
func (v *VanDerPol) InitialState(dst []float64, uniform func() float64) {
	for i := range dst[:2] {
		dst[i] = 6*uniform() - 3
	}
}

// VanDerPolPeriodMu1 is the limit-cycle period for Mu = 1 (s), as the
// reference integration in env/testdata/gen_vanderpol.py gives it.
const VanDerPolPeriodMu1 = 6.663286859323

// VanDerPolAmplitudeMu1 is the limit cycle's maximum |x| for Mu = 1.
const VanDerPolAmplitudeMu1 = 2.00861986087
