package nef

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// EnsembleSpec describes an ensemble to generate: Nengo's defaults are
// max rates uniform in [200, 400) Hz, intercepts uniform in [−1, 1) and
// encoders uniform on the unit sphere.
type EnsembleSpec struct {
	Neurons, Dimensions         int
	MaxRateLow, MaxRateHigh     float64 // Hz
	InterceptLow, InterceptHigh float64
	Neuron                      LIF
}

// DefaultEnsembleSpec is Nengo's default ensemble of n LIF neurons in d dimensions.
func DefaultEnsembleSpec(n, d int) EnsembleSpec {
	return EnsembleSpec{Neurons: n, Dimensions: d, MaxRateLow: 200, MaxRateHigh: 400,
		InterceptLow: -1, InterceptHigh: 1, Neuron: DefaultLIF()}
}

// Ensemble is a population of LIF neurons representing a D-dimensional value.
type Ensemble struct {
	N, D       int
	Encoders   []float64 // (N, D), unit rows
	Gain, Bias []float64 // (N)
	MaxRates   []float64 // (N) Hz, as generated (informative once gain and bias exist)
	Intercepts []float64 // (N)
	Neuron     LIF
}

// NewEnsemble draws an ensemble from spec with rng: for every neuron its
// encoder (a normalised Gaussian vector), then its max rate and intercept.
func NewEnsemble(spec EnsembleSpec, rng *rand.Rand) (*Ensemble, error) {
	if spec.Neurons <= 0 || spec.Dimensions <= 0 {
		return nil, fmt.Errorf("nef: ensemble of %d neurons in %d dimensions, want both > 0", spec.Neurons, spec.Dimensions)
	}
	if spec.Neurons > 1<<20 || spec.Dimensions > 1<<12 {
		return nil, fmt.Errorf("nef: ensemble of %d neurons in %d dimensions is larger than supported (2^20 neurons, 4096 dimensions)", spec.Neurons, spec.Dimensions)
	}
	if !(spec.MaxRateLow > 0 && spec.MaxRateHigh >= spec.MaxRateLow) {
		return nil, fmt.Errorf("nef: max rates [%v, %v) Hz, want 0 < low <= high", spec.MaxRateLow, spec.MaxRateHigh)
	}
	if !(spec.InterceptLow <= spec.InterceptHigh && spec.InterceptHigh <= 1 && spec.InterceptLow < 1) {
		return nil, fmt.Errorf("nef: intercepts [%v, %v), want low <= high <= 1 (draws are below high)", spec.InterceptLow, spec.InterceptHigh)
	}
	n, d := spec.Neurons, spec.Dimensions
	enc := make([]float64, n*d)
	maxRates := make([]float64, n)
	intercepts := make([]float64, n)
	for i := 0; i < n; i++ {
		row := enc[i*d : (i+1)*d]
		for {
			norm := 0.0
			for k := range row {
				row[k] = rng.NormFloat64()
				norm += row[k] * row[k]
			}
			if norm > 0 {
				norm = math.Sqrt(norm)
				for k := range row {
					row[k] /= norm
				}
				break
			}
		}
	}
	for i := range maxRates {
		maxRates[i] = spec.MaxRateLow + (spec.MaxRateHigh-spec.MaxRateLow)*rng.Float64()
	}
	for i := range intercepts {
		intercepts[i] = spec.InterceptLow + (spec.InterceptHigh-spec.InterceptLow)*rng.Float64()
	}
	return NewEnsembleFrom(n, d, enc, maxRates, intercepts, spec.Neuron)
}

// NewEnsembleFrom builds an ensemble from given encoders (N, D), max rates
// and intercepts; gain and bias are computed from them.
func NewEnsembleFrom(n, d int, encoders, maxRates, intercepts []float64, neuron LIF) (*Ensemble, error) {
	if err := neuron.Check(); err != nil {
		return nil, err
	}
	if len(encoders) != n*d || len(maxRates) != n || len(intercepts) != n {
		return nil, fmt.Errorf("nef: ensemble of %d neurons in %d dimensions: got %d encoder values, %d max rates, %d intercepts",
			n, d, len(encoders), len(maxRates), len(intercepts))
	}
	e := &Ensemble{N: n, D: d, Encoders: append([]float64(nil), encoders...), Gain: make([]float64, n), Bias: make([]float64, n),
		MaxRates: append([]float64(nil), maxRates...), Intercepts: append([]float64(nil), intercepts...), Neuron: neuron}
	for i := 0; i < n; i++ {
		g, b, err := neuron.GainBias(maxRates[i], intercepts[i])
		if err != nil {
			return nil, fmt.Errorf("nef: neuron %d: %w", i, err)
		}
		e.Gain[i], e.Bias[i] = g, b
	}
	return e, e.Check()
}

// Check reports inconsistent sizes or non-finite parameters.
func (e *Ensemble) Check() error {
	if e.N <= 0 || e.D <= 0 {
		return fmt.Errorf("nef: ensemble of %d neurons in %d dimensions, want both > 0", e.N, e.D)
	}
	if len(e.Encoders) != e.N*e.D || len(e.Gain) != e.N || len(e.Bias) != e.N {
		return fmt.Errorf("nef: ensemble of %d neurons in %d dimensions: %d encoder values, %d gains, %d biases",
			e.N, e.D, len(e.Encoders), len(e.Gain), len(e.Bias))
	}
	for _, s := range [][]float64{e.Encoders, e.Gain, e.Bias} {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("nef: ensemble parameter %d is %v, want a finite number", i, v)
			}
		}
	}
	return e.Neuron.Check()
}

// Current writes the neurons' input currents for the represented value x
// into J: J = bias + gain·(e·x), in that order (Nengo copies the bias into J
// and adds the scaled encoders' product).
func (e *Ensemble) Current(J, x []float64) {
	if len(J) != e.N || len(x) != e.D {
		panic(fmt.Sprintf("nef: Ensemble.Current: %d currents for %d neurons, value of %d for %d dimensions", len(J), e.N, len(x), e.D))
	}
	d := e.D
	for i := range J {
		row := e.Encoders[i*d : (i+1)*d]
		s := 0.0
		for k, xk := range x {
			s += e.Gain[i] * row[k] * xk
		}
		J[i] = e.Bias[i] + s
	}
}

// Rates writes the steady firing rates (Hz) of the neurons at x into dst.
func (e *Ensemble) Rates(dst, x []float64) {
	e.Current(dst, x)
	for i, j := range dst {
		dst[i] = e.Neuron.Rate(j)
	}
}

// InitialVoltages draws every neuron's starting voltage uniformly from
// [0, 1), as nengo.LIF does by default.
func (e *Ensemble) InitialVoltages(rng *rand.Rand) []float64 {
	v := make([]float64, e.N)
	for i := range v {
		v[i] = rng.Float64()
	}
	return v
}
