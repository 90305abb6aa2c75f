package probe

import (
	"errors"
	"fmt"
	"math"
)

// MaskedMSE is the mean of (predict(x) - y)² over the non-NaN targets of
// s, accumulated in float64 in row order: the loss the emulators minimise
// (missing targets count nothing). NaN when s has no target at all.
func MaskedMSE(s *Samples, predict func(dst, x []float32)) float64 {
	pred := make([]float32, s.Out)
	sum, n := 0.0, 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		predict(pred, x)
		for i, v := range y {
			if math.IsNaN(float64(v)) {
				continue
			}
			e := float64(pred[i]) - float64(v)
			sum += e * e
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// NRMSE returns, per output dimension d of the task, the root mean squared
// error of predict on s divided by the standard deviation of the true values
// of d, both over the non-missing samples. For a SequenceTask the dimension
// is the target (pooled over the window's steps); for a ForwardTask it is the
// one-step change, so predicting "no change" scores ~1, not ~0. Residual
// sequence outputs are compared as targets (Absolute). NRMSE is the
// same in standardised and original units (standardisation is affine per
// dimension).
func (t *Task) NRMSE(s *Samples, predict Predictor) ([]float64, error) {
	dims := t.TargetSize
	sum, sum2, se, n := make([]float64, dims), make([]float64, dims), make([]float64, dims), make([]float64, dims)
	pred := make([]float32, s.Out)
	truth := make([]float32, s.Out)
	for r := 0; r < s.Rows; r++ {
		x, yr := s.Row(r)
		if err := predict(pred, x); err != nil {
			return nil, fmt.Errorf("probe: sample %d: %w", r, err)
		}
		y := truth
		copy(y, yr)
		t.Absolute(pred, x)
		t.Absolute(y, x)
		for i, v := range y {
			if math.IsNaN(float64(v)) {
				continue
			}
			d := i % dims
			e := float64(pred[i]) - float64(v)
			se[d] += e * e
			sum[d] += float64(v)
			sum2[d] += float64(v) * float64(v)
			n[d]++
		}
	}
	return nrmseFrom(se, sum, sum2, n)
}

func nrmseFrom(se, sum, sum2, n []float64) ([]float64, error) {
	out := make([]float64, len(se))
	for d := range out {
		if n[d] == 0 {
			return nil, fmt.Errorf("probe: dimension %d has no target to compare with", d)
		}
		mean := sum[d] / n[d]
		variance := sum2[d]/n[d] - mean*mean
		if !(variance > 0) {
			return nil, fmt.Errorf("probe: dimension %d is constant; NRMSE is undefined", d)
		}
		out[d] = math.Sqrt(se[d]/n[d]) / math.Sqrt(variance)
	}
	return out, nil
}

// TrajectoryNRMSE compares predicted and true trajectories (steps, dims)
// row-major over their first steps rows, per dimension, normalised by
// scale[d] (e.g. the target's standard deviation over the data set).
// Missing (NaN) true values are skipped.
func TrajectoryNRMSE(pred, truth []float64, dims, steps int, scale []float64) ([]float64, error) {
	if len(pred) < steps*dims || len(truth) < steps*dims || len(scale) != dims {
		return nil, errors.New("probe: trajectory NRMSE: lengths do not match")
	}
	out := make([]float64, dims)
	for d := 0; d < dims; d++ {
		se, n := 0.0, 0
		for k := 0; k < steps; k++ {
			v := truth[k*dims+d]
			if math.IsNaN(v) {
				continue
			}
			e := pred[k*dims+d] - v
			se += e * e
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("probe: trajectory NRMSE: dimension %d has no target", d)
		}
		out[d] = math.Sqrt(se/float64(n)) / scale[d]
	}
	return out, nil
}

// Cycle describes an oscillation found by LimitCycle.
type Cycle struct {
	// Period is the mean interval between upward zero crossings (s).
	Period float64 `json:"period"`
	// Amplitude is max |x| over the analysed span; MinAmplitude and
	// MaxAmplitude the smallest and largest per-cycle maxima.
	Amplitude    float64 `json:"amplitude"`
	MinAmplitude float64 `json:"min_amplitude"`
	MaxAmplitude float64 `json:"max_amplitude"`
	// MinPeriod and MaxPeriod are the shortest and longest single cycles.
	MinPeriod float64 `json:"min_period"`
	MaxPeriod float64 `json:"max_period"`
	Cycles    int     `json:"cycles"`
}

// LimitCycle analyses x sampled every dt seconds, ignoring the first skip
// seconds: upward zero crossings (linear interpolation) delimit cycles.
func LimitCycle(x []float64, dt, skip float64) (Cycle, error) {
	var c Cycle
	var crossings []float64
	first := int(math.Ceil(skip / dt))
	for k := first; k+1 < len(x); k++ {
		if x[k] < 0 && x[k+1] >= 0 {
			crossings = append(crossings, (float64(k)+x[k]/(x[k]-x[k+1]))*dt)
		}
	}
	if len(crossings) < 2 {
		return c, fmt.Errorf("probe: fewer than two upward zero crossings after %v s: no oscillation", skip)
	}
	c.Cycles = len(crossings) - 1
	c.Period = (crossings[len(crossings)-1] - crossings[0]) / float64(c.Cycles)
	c.MinPeriod, c.MinAmplitude = math.Inf(1), math.Inf(1)
	for i := 0; i < c.Cycles; i++ {
		p := crossings[i+1] - crossings[i]
		c.MinPeriod, c.MaxPeriod = min(c.MinPeriod, p), max(c.MaxPeriod, p)
		a := 0.0
		for k := int(crossings[i] / dt); k <= int(crossings[i+1]/dt)+1 && k < len(x); k++ {
			a = max(a, math.Abs(x[k]))
		}
		c.MinAmplitude, c.MaxAmplitude = min(c.MinAmplitude, a), max(c.MaxAmplitude, a)
		c.Amplitude = max(c.Amplitude, a)
	}
	return c, nil
}
