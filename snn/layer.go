package snn

import (
	"fmt"
	"math"
)

// Float is the simulation precision: float32 (fast default) or float64.
type Float interface{ ~float32 | ~float64 }

// ResetMode says what a neuron's membrane does after a spike. The strings are
// the ones model files store; "" means ResetSubtract.
type ResetMode string

const (
	// ResetSubtract lowers v by the threshold, keeping the residue (rate
	// coding loses no charge).
	ResetSubtract ResetMode = "subtract"
	// ResetZero sets v to 0.
	ResetZero ResetMode = "zero"
)

// LayerOf is one fully connected layer of spiking neurons. All fields are
// plain values so a converter can fill them and a model file can describe them.
type LayerOf[F Float] struct {
	Name    string
	In, Out int
	// Weights holds Out*In values, row-major (out, in) as in model.Layer.
	Weights []F
	// Bias is a constant current added to every neuron each step (nil: none).
	Bias []F
	// Threshold is the firing threshold of every neuron, unless Thresholds
	// (one per neuron) is non-nil.
	Threshold  F
	Thresholds []F
	// StrictThreshold makes a neuron spike when v > threshold (the strict
	// Heaviside of DSQN and snnTorch-style code) instead of v >= threshold.
	// It needs next-step propagation (the schedule those codes use).
	StrictThreshold bool
	// Leak is β in v = β v + I: 1 for IF neurons, in (0, 1) for LIF neurons.
	Leak  F
	Reset ResetMode
	// InitialMembrane is v(0) as a fraction of each neuron's threshold (0.5
	// is the half-threshold start of DESIGN.md), unless InitialMembranes
	// (absolute values, one per neuron) is non-nil.
	InitialMembrane  F
	InitialMembranes []F
}

// Layer is the float32 layer of the default Network.
type Layer = LayerOf[float32]

// NewIFLayer returns a layer of the DESIGN.md baseline neurons: non-leaky IF,
// threshold 1, reset by subtraction, v(0) = threshold/2. Weights are (out, in).
func NewIFLayer[F Float](name string, in, out int, weights, bias []F) LayerOf[F] {
	return LayerOf[F]{Name: name, In: in, Out: out, Weights: weights, Bias: bias,
		Threshold: 1, Leak: 1, Reset: ResetSubtract, InitialMembrane: 0.5}
}

// validate checks the layer on its own. Neuron parameters are skipped for a
// membrane-readout integrator (integrator true), which never spikes.
func (l *LayerOf[F]) validate(index int, integrator bool) error {
	where := fmt.Sprintf("snn: layer %d (%q)", index, l.Name)
	if l.Name == "" {
		where = fmt.Sprintf("snn: layer %d", index)
	}
	if l.In <= 0 || l.Out <= 0 {
		return fmt.Errorf("%s: sizes must be positive, got in=%d out=%d", where, l.In, l.Out)
	}
	if len(l.Weights) != l.In*l.Out {
		return fmt.Errorf("%s: weights hold %d values, want out*in = %d*%d = %d",
			where, len(l.Weights), l.Out, l.In, l.In*l.Out)
	}
	if i := firstNonFinite(l.Weights); i >= 0 {
		return fmt.Errorf("%s: weight [%d, %d] is %v, want a finite number", where, i/l.In, i%l.In, l.Weights[i])
	}
	if l.Bias != nil && len(l.Bias) != l.Out {
		return fmt.Errorf("%s: bias holds %d values, want %d", where, len(l.Bias), l.Out)
	}
	if i := firstNonFinite(l.Bias); i >= 0 {
		return fmt.Errorf("%s: bias [%d] is %v, want a finite number", where, i, l.Bias[i])
	}
	if integrator {
		return nil
	}
	if l.Thresholds != nil {
		if len(l.Thresholds) != l.Out {
			return fmt.Errorf("%s: thresholds hold %d values, want one per neuron (%d)", where, len(l.Thresholds), l.Out)
		}
		for i, th := range l.Thresholds {
			if !(th > 0) || math.IsInf(float64(th), 0) {
				return fmt.Errorf("%s: threshold [%d] is %v, want a finite number > 0", where, i, th)
			}
		}
	} else if !(l.Threshold > 0) || math.IsInf(float64(l.Threshold), 0) {
		return fmt.Errorf("%s: threshold is %v, want a finite number > 0 (or per-neuron Thresholds)", where, l.Threshold)
	}
	if !(l.Leak > 0 && l.Leak <= 1) {
		return fmt.Errorf("%s: leak is %v, want 0 < leak <= 1 (1 for IF neurons)", where, l.Leak)
	}
	switch l.Reset {
	case "", ResetSubtract, ResetZero:
	default:
		return fmt.Errorf("%s: unknown reset mode %q (want %q or %q)", where, string(l.Reset), ResetSubtract, ResetZero)
	}
	if l.InitialMembranes != nil {
		if len(l.InitialMembranes) != l.Out {
			return fmt.Errorf("%s: initial membranes hold %d values, want one per neuron (%d)",
				where, len(l.InitialMembranes), l.Out)
		}
		if i := firstNonFinite(l.InitialMembranes); i >= 0 {
			return fmt.Errorf("%s: initial membrane [%d] is %v, want a finite number", where, i, l.InitialMembranes[i])
		}
	} else if math.IsNaN(float64(l.InitialMembrane)) || math.IsInf(float64(l.InitialMembrane), 0) {
		return fmt.Errorf("%s: initial membrane fraction is %v, want a finite number", where, l.InitialMembrane)
	}
	return nil
}

func firstNonFinite[F Float](v []F) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
