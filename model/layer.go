package model

import (
	"fmt"
	"math"
)

// Kind names a layer type. The strings are the ones model files store.
type Kind string

const (
	// Dense is a fully connected layer: y = W x + b, W stored (out, in).
	Dense Kind = "dense"
	// ReLU is max(0, x), element-wise.
	ReLU Kind = "relu"
	// Identity passes its input through; it marks a linear output explicitly.
	Identity Kind = "identity"
	// Tanh is the hyperbolic tangent, element-wise.
	Tanh Kind = "tanh"
	// Sigmoid is 1 / (1 + exp(-x)), element-wise.
	Sigmoid Kind = "sigmoid"
	// LeakyReLU is x for x > 0, else Alpha*x (torch's negative_slope).
	LeakyReLU Kind = "leaky_relu"
	// ELU is x for x > 0, else Alpha*(exp(x) - 1).
	ELU Kind = "elu"
)

// IsActivation reports whether k is an element-wise activation kind.
func IsActivation(k Kind) bool {
	switch k {
	case ReLU, Identity, Tanh, Sigmoid, LeakyReLU, ELU:
		return true
	}
	return false
}

// PiecewiseLinear reports whether activation k is piecewise linear (ReLU,
// Identity, LeakyReLU), the kinds a rate-coded spiking layer can follow.
func PiecewiseLinear(k Kind) bool {
	return k == ReLU || k == Identity || k == LeakyReLU
}

// Layer is one step of a Network. Dense layers carry Weights (Out*In values,
// row-major (out, in)) and Bias (Out values, or nil for no bias). Activation
// layers have In == Out and no parameters.
type Layer struct {
	Name    string
	Kind    Kind
	In, Out int
	Weights []float32
	Bias    []float32
	// Alpha is LeakyReLU's negative slope or ELU's alpha (unused by other kinds).
	Alpha float32
}

// NewDense returns a Dense layer; weights are (out, in) row-major.
func NewDense(name string, in, out int, weights, bias []float32) Layer {
	return Layer{Name: name, Kind: Dense, In: in, Out: out, Weights: weights, Bias: bias}
}

// NewActivation returns a parameter-free activation layer of the given width.
func NewActivation(name string, kind Kind, width int) Layer {
	return Layer{Name: name, Kind: kind, In: width, Out: width}
}

// NewParamActivation returns an activation layer with a parameter: LeakyReLU's
// negative slope or ELU's alpha.
func NewParamActivation(name string, kind Kind, width int, alpha float32) Layer {
	return Layer{Name: name, Kind: kind, In: width, Out: width, Alpha: alpha}
}

// validate checks the layer on its own; index is its position for messages.
func (l Layer) validate(index int) error {
	where := fmt.Sprintf("layer %d (%q, %s)", index, l.Name, l.Kind)
	if l.Name == "" {
		return fmt.Errorf("model: layer %d (%s): empty name", index, l.Kind)
	}
	if l.In <= 0 || l.Out <= 0 {
		return fmt.Errorf("model: %s: sizes must be positive, got in=%d out=%d", where, l.In, l.Out)
	}
	switch l.Kind {
	case Dense:
		if len(l.Weights) != l.In*l.Out {
			return fmt.Errorf("model: %s: weights hold %d values, want out*in = %d*%d = %d",
				where, len(l.Weights), l.Out, l.In, l.In*l.Out)
		}
		if l.Bias != nil && len(l.Bias) != l.Out {
			return fmt.Errorf("model: %s: bias holds %d values, want %d", where, len(l.Bias), l.Out)
		}
		if i := firstNonFinite(l.Weights); i >= 0 {
			return fmt.Errorf("model: %s: weight [%d, %d] is %v, want a finite number",
				where, i/l.In, i%l.In, l.Weights[i])
		}
		if i := firstNonFinite(l.Bias); i >= 0 {
			return fmt.Errorf("model: %s: bias [%d] is %v, want a finite number", where, i, l.Bias[i])
		}
	case ReLU, Identity, Tanh, Sigmoid, LeakyReLU, ELU:
		if math.IsNaN(float64(l.Alpha)) || math.IsInf(float64(l.Alpha), 0) {
			return fmt.Errorf("model: %s: alpha is %v, want a finite number", where, l.Alpha)
		}
		if l.In != l.Out {
			return fmt.Errorf("model: %s: activation must keep its width, got in=%d out=%d", where, l.In, l.Out)
		}
		if l.Weights != nil || l.Bias != nil {
			return fmt.Errorf("model: %s: activation layers carry no parameters", where)
		}
	default:
		return fmt.Errorf("model: %s: unknown layer kind %q (want dense, relu, identity, tanh, sigmoid, leaky_relu or elu)", where, string(l.Kind))
	}
	return nil
}

// MACs is the number of multiply-accumulates one sample costs in this layer.
func (l Layer) MACs() int {
	if l.Kind == Dense {
		return l.In * l.Out
	}
	return 0
}

func firstNonFinite(v []float32) int {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return i
		}
	}
	return -1
}
