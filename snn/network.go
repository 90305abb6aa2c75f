package snn

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// Propagation says when a spike reaches the next layer. "" means SameStep.
type Propagation string

const (
	// SameStep sweeps the layers in order inside each step: a spike of layer
	// l at step t is integrated by layer l+1 at step t (DESIGN.md default).
	SameStep Propagation = "same-step"
	// NextStep is Brian2's schedule: integrate all layers, threshold all,
	// propagate, reset all; a spike of step t is seen by layer l+1's threshold
	// at step t+1.
	NextStep Propagation = "next-step"
)

// Readout says how the last layer produces the network's output. "" means
// Membrane.
type Readout string

const (
	// Membrane makes the last layer a non-spiking integrator: output =
	// accumulated input / T * OutputScale, decision = argmax (ties: lowest).
	Membrane Readout = "membrane"
	// Spikes keeps the last layer spiking: output = count / T * OutputScale,
	// decision = argmax count (ties: larger final v, then lowest index).
	Spikes Readout = "spikes"
)

// Encoding says how an observation drives the network. "" means Analog.
type Encoding string

const (
	// Analog drives the first layer with the constant current W (Gain*x).
	Analog Encoding = "analog"
	// Rate passes Gain*x through integrate-and-fire input neurons (threshold
	// Input.Threshold, v(0) = Input.InitialMembrane * threshold, subtractive
	// reset); a neuron whose v falls to -threshold emits a negative spike.
	// With NextStep propagation this is Brian2's input NeuronGroup.
	Rate Encoding = "rate"
	// Poisson emits, per input and step, a spike of sign(x) with probability
	// min(Gain*|x|, 1), drawn from State.Source.
	Poisson Encoding = "poisson"
)

// InputOf describes how observations enter the network.
type InputOf[F Float] struct {
	Encoding Encoding
	// Gain multiplies every observation before it is encoded (> 0).
	Gain F
	// Threshold and InitialMembrane (a fraction of Threshold) are used by
	// Rate encoding only.
	Threshold       F
	InitialMembrane F
}

// NetworkOf is a validated feed-forward spiking network. Build it with New;
// after that treat it as read-only (New copies the parameters and derives the
// simulator's own layouts from them).
type NetworkOf[F Float] struct {
	Layers []LayerOf[F]
	Input  InputOf[F]
	// Timesteps is the number of steps per decision used when Run is given
	// T = 0.
	Timesteps   int
	Propagation Propagation
	Readout     Readout
	// OutputScale multiplies the readout (rate or mean current per step) to
	// return to the ANN's units (> 0).
	OutputScale F

	layers   []compiledLayer[F]
	maxWidth int
}

// Network is the float32 network, the default precision.
type Network = NetworkOf[float32]

// compiledLayer is a layer in the simulator's layout.
type compiledLayer[F Float] struct {
	in, out    int
	weights    []F // (out, in), for the analog drive of layer 0
	transposed []F // (in, out): column j is what a spike of input j adds
	// negTransposed is -transposed, for the lockstep kernels (lockstep.go).
	negTransposed []F
	bias          []F // out values (zeros when the layer has none)
	threshold     []F
	// fireAt is what v is compared with (v >= fireAt): threshold itself, or
	// for a strict layer the next float above it, since v > θ exactly when
	// v >= nextUp(θ) in F; the reset still subtracts threshold.
	fireAt     []F
	strict     bool
	initial    []F // absolute v(0)
	leak       F
	resetZero  bool
	integrator bool
	// addColumns and integrateAndFire are the fastest kernels for F (SSE
	// for float32, and float64 column additions, on amd64), bit-identical to the generic ones.
	addColumns       func(v, wt []F, spikes []int32)
	integrateAndFire func(v, drive []F, leak F, threshold []F, spikes []int32) int
	// integrate, fireReset and resetCount are AVX-512 kernels where it runs.
	integrate  func(v, drive []F, leak F)
	fireReset  func(v, threshold []F, spikes, counts []int32, zero bool) int
	resetCount func(v, threshold []F, spikes, counts []int32, zero bool)
	// stepNext, where non-nil, is a next-step layer in one kernel (AVX-512).
	stepNext func(v, drive, threshold, wt []F, leak F, pos, neg, counts, spikes []int32, zero bool) int
}

// nextStepKernel returns the AVX-512 next-step layer kernel for F, or nil.
func nextStepKernel[F Float]() func(v, drive, threshold, wt []F, leak F, pos, neg, counts, spikes []int32, zero bool) int {
	type kernel = func(v, drive, threshold, wt []F, leak F, pos, neg, counts, spikes []int32, zero bool) int
	if _, avx512 := lockstepKernels(); avx512 {
		if k, ok := any(stepNextWide32).(kernel); ok {
			return k
		}
		if k, ok := any(stepNextWide64).(kernel); ok {
			return k
		}
	}
	return nil
}

// sampleKernels picks integrate, fireReset and resetCount for F: AVX-512
// where it runs, else the generic loops; bit-identical either way.
func sampleKernels[F Float]() (func(v, drive []F, leak F),
	func(v, threshold []F, spikes, counts []int32, zero bool) int,
	func(v, threshold []F, spikes, counts []int32, zero bool)) {
	if _, avx512 := lockstepKernels(); avx512 {
		if i, ok := any(integrateWide32).(func(v, drive []F, leak F)); ok {
			return i, any(fireResetWide32).(func(v, threshold []F, spikes, counts []int32, zero bool) int),
				any(resetCountWide32).(func(v, threshold []F, spikes, counts []int32, zero bool))
		}
		if i, ok := any(integrateWide64).(func(v, drive []F, leak F)); ok {
			return i, any(fireResetWide64).(func(v, threshold []F, spikes, counts []int32, zero bool) int),
				any(resetCountWide64).(func(v, threshold []F, spikes, counts []int32, zero bool))
		}
	}
	return integrate[F], fireReset[F], resetCount[F]
}

// columnAdder picks the fastest assembly kernel for F (AVX-512, else SSE on
// amd64); the results are bit-identical to the generic loop either way.
func columnAdder[F Float]() func(v, wt []F, spikes []int32) {
	if _, avx512 := lockstepKernels(); avx512 {
		if fast, ok := any(addColumnsWide32).(func(v, wt []F, spikes []int32)); ok {
			return fast
		}
		if fast, ok := any(addColumnsWide64).(func(v, wt []F, spikes []int32)); ok {
			return fast
		}
	}
	if fast, ok := any(addColumns32).(func(v, wt []F, spikes []int32)); ok {
		return fast
	}
	if fast, ok := any(addColumns64).(func(v, wt []F, spikes []int32)); ok {
		return fast
	}
	return addColumns[F]
}

func fireKernel[F Float]() func(v, drive []F, leak F, threshold []F, spikes []int32) int {
	if _, avx512 := lockstepKernels(); avx512 {
		if fast, ok := any(integrateAndFireWide32).(func(v, drive []F, leak F, threshold []F, spikes []int32) int); ok {
			return fast
		}
		if fast, ok := any(integrateAndFireWide64).(func(v, drive []F, leak F, threshold []F, spikes []int32) int); ok {
			return fast
		}
	}
	if fast, ok := any(integrateAndFire32).(func(v, drive []F, leak F, threshold []F, spikes []int32) int); ok {
		return fast
	}
	return integrateAndFire[F]
}

// New validates spec and returns a network holding copies of its parameters.
// Errors name the offending layer and what was expected.
func New[F Float](spec NetworkOf[F]) (*NetworkOf[F], error) {
	if len(spec.Layers) == 0 {
		return nil, fmt.Errorf("snn: a network needs at least one layer")
	}
	switch spec.Propagation {
	case "", SameStep, NextStep:
	default:
		return nil, fmt.Errorf("snn: unknown propagation %q (want %q or %q)", string(spec.Propagation), SameStep, NextStep)
	}
	switch spec.Readout {
	case "", Membrane, Spikes:
	default:
		return nil, fmt.Errorf("snn: unknown readout %q (want %q or %q)", string(spec.Readout), Membrane, Spikes)
	}
	switch spec.Input.Encoding {
	case "", Analog, Poisson:
	case Rate:
		if th := spec.Input.Threshold; !(th > 0) || math.IsInf(float64(th), 0) {
			return nil, fmt.Errorf("snn: input: rate encoding threshold is %v, want a finite number > 0", th)
		}
		if v := float64(spec.Input.InitialMembrane); math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("snn: input: rate encoding initial membrane is %v, want a finite number", v)
		}
	default:
		return nil, fmt.Errorf("snn: unknown input encoding %q (want %q, %q or %q)",
			string(spec.Input.Encoding), Analog, Rate, Poisson)
	}
	if g := spec.Input.Gain; !(g > 0) || math.IsInf(float64(g), 0) {
		return nil, fmt.Errorf("snn: input: gain is %v, want a finite number > 0 (1 for none)", g)
	}
	if s := spec.OutputScale; !(s > 0) || math.IsInf(float64(s), 0) {
		return nil, fmt.Errorf("snn: output scale is %v, want a finite number > 0 (1 for none)", s)
	}
	if spec.Timesteps < 0 {
		return nil, fmt.Errorf("snn: timesteps is %d, want >= 0 (0: every Run names T)", spec.Timesteps)
	}

	n := &NetworkOf[F]{Input: spec.Input, Timesteps: spec.Timesteps, Propagation: spec.Propagation,
		Readout: spec.Readout, OutputScale: spec.OutputScale}
	if n.Propagation == "" {
		n.Propagation = SameStep
	}
	if n.Readout == "" {
		n.Readout = Membrane
	}
	if n.Input.Encoding == "" {
		n.Input.Encoding = Analog
	}
	last := len(spec.Layers) - 1
	seen := make(map[string]int, len(spec.Layers))
	for i := range spec.Layers {
		l := &spec.Layers[i]
		integrator := i == last && n.Readout == Membrane
		if err := l.validate(i, integrator); err != nil {
			return nil, err
		}
		if l.Name != "" {
			if j, dup := seen[l.Name]; dup {
				return nil, fmt.Errorf("snn: layer %d (%q): name already used by layer %d", i, l.Name, j)
			}
			seen[l.Name] = i
		}
		if l.StrictThreshold && !integrator && n.Propagation != NextStep {
			return nil, fmt.Errorf("snn: layer %d (%q): a strict threshold (v > threshold) needs %q propagation, not %q",
				i, l.Name, NextStep, n.Propagation)
		}
		if i > 0 && spec.Layers[i-1].Out != l.In {
			return nil, fmt.Errorf("snn: layer %d (%q): input size %d does not match the %d outputs of layer %d (%q)",
				i, l.Name, l.In, spec.Layers[i-1].Out, i-1, spec.Layers[i-1].Name)
		}
		n.Layers = append(n.Layers, copyLayer(l))
		n.layers = append(n.layers, compile(l, integrator))
		n.maxWidth = max(n.maxWidth, l.In, l.Out)
	}
	return n, nil
}

func copyLayer[F Float](l *LayerOf[F]) LayerOf[F] {
	c := *l
	c.Weights = clone(l.Weights)
	c.Bias = clone(l.Bias)
	c.Thresholds = clone(l.Thresholds)
	c.InitialMembranes = clone(l.InitialMembranes)
	return c
}

func clone[F Float](v []F) []F {
	if v == nil {
		return nil
	}
	return append([]F(nil), v...)
}

func compile[F Float](l *LayerOf[F], integrator bool) compiledLayer[F] {
	c := compiledLayer[F]{in: l.In, out: l.Out, weights: clone(l.Weights), integrator: integrator,
		leak: l.Leak, resetZero: l.Reset == ResetZero,
		transposed: make([]F, l.In*l.Out), negTransposed: make([]F, l.In*l.Out), bias: make([]F, l.Out),
		threshold: make([]F, l.Out), initial: make([]F, l.Out), addColumns: columnAdder[F](), integrateAndFire: fireKernel[F]()}
	c.integrate, c.fireReset, c.resetCount = sampleKernels[F]()
	// The next-step kernel works on blocks of four 64-byte registers; on
	// narrower layers most of a block would be masked off, and the separate
	// kernels are faster.
	if l.Out*int(unsafe.Sizeof(F(0))) >= 4*64 && !(l.StrictThreshold && !integrator) {
		c.stepNext = nextStepKernel[F]()
	}
	for o := 0; o < l.Out; o++ {
		for i := 0; i < l.In; i++ {
			c.transposed[i*l.Out+o] = l.Weights[o*l.In+i]
			c.negTransposed[i*l.Out+o] = -l.Weights[o*l.In+i]
		}
	}
	copy(c.bias, l.Bias)
	if integrator {
		// The integrator sums its input without leak and never fires.
		c.leak = 1
		for o := range c.threshold {
			c.threshold[o] = F(math.Inf(1))
		}
		c.fireAt = c.threshold
		return c
	}
	for o := range c.threshold {
		if l.Thresholds != nil {
			c.threshold[o] = l.Thresholds[o]
		} else {
			c.threshold[o] = l.Threshold
		}
		if l.InitialMembranes != nil {
			c.initial[o] = l.InitialMembranes[o]
		} else {
			c.initial[o] = l.InitialMembrane * c.threshold[o]
		}
	}
	c.fireAt = c.threshold
	if l.StrictThreshold {
		c.strict = true
		c.fireAt = make([]F, l.Out)
		for o, th := range c.threshold {
			c.fireAt[o] = nextUp(th)
		}
	}
	return c
}

// nextUp returns the smallest F above x (x finite).
func nextUp[F Float](x F) F {
	if unsafe.Sizeof(x) == 4 {
		return F(math.Nextafter32(float32(x), float32(math.Inf(1))))
	}
	return F(math.Nextafter(float64(x), math.Inf(1)))
}

// hasStrict reports whether any layer fires on v > threshold; such networks
// run on the per-sample next-step path.
func (n *NetworkOf[F]) hasStrict() bool {
	for i := range n.layers {
		if n.layers[i].strict {
			return true
		}
	}
	return false
}

// InputSize is the width of one observation.
func (n *NetworkOf[F]) InputSize() int { return n.layers[0].in }

// OutputSize is the number of outputs (actions).
func (n *NetworkOf[F]) OutputSize() int { return n.layers[len(n.layers)-1].out }

// Sizes returns the widths from input to output, e.g. [4 64 64 2].
func (n *NetworkOf[F]) Sizes() []int {
	s := []int{n.InputSize()}
	for _, l := range n.layers {
		s = append(s, l.out)
	}
	return s
}

// String gives the sizes as "4-64-64-2".
func (n *NetworkOf[F]) String() string {
	parts := make([]string, 0, len(n.layers)+1)
	for _, s := range n.Sizes() {
		parts = append(parts, strconv.Itoa(s))
	}
	return strings.Join(parts, "-")
}
