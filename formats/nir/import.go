package nir

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/snn"
)

// ImportOptions complete what a NIR file may leave open.
type ImportOptions struct {
	// DT is the step length in seconds; 0 takes the graph's "dt" metadata
	// (files spikebridge writes have it) and is an error where it is absent.
	DT float64
	// Timesteps is T per decision; 0 takes the graph's "timesteps"
	// metadata, else 0 (every run names T).
	Timesteps int
}

// ErrUnsupported is wrapped by ToSNN errors for graphs snn cannot run.
var ErrUnsupported = fmt.Errorf("unsupported NIR graph")

// ErrNoTimeStep is ToSNN's error for a graph without "dt" metadata when
// ImportOptions.DT is not given either.
var ErrNoTimeStep = errors.New("the graph does not state its time step (no \"dt\" metadata): give dt in seconds")

// ToSNN maps a NIR chain onto a layered snn network (see the package
// documentation) and grades each node. For a graph it cannot map it returns
// the grades with the unsupported nodes marked and an error wrapping
// ErrUnsupported.
func ToSNN(g *Graph, opts ImportOptions) (*snn.Network, []NodeGrade, error) {
	chain, grades, err := g.chain()
	if err != nil {
		return nil, grades, err
	}
	dt := opts.DT
	if dt == 0 {
		s, ok := g.Metadata["dt"]
		if !ok {
			return nil, grades, ErrNoTimeStep
		}
		if dt, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, grades, fmt.Errorf("metadata dt %q: %w", s, err)
		}
	}
	if !(dt > 0) || math.IsInf(dt, 0) {
		return nil, grades, fmt.Errorf("dt %v s, want a finite number > 0", dt)
	}
	spec, err := g.settings(opts)
	if err != nil {
		return nil, grades, err
	}
	b := builder{g: g, dt: dt, spec: &spec, width: -1}
	for _, gr := range grades {
		if n := g.Nodes[gr.Node]; n.Type == "Input" {
			if shape, _, err := n.param("shape"); err == nil {
				b.width = 1
				for _, s := range shape {
					b.width *= int(s)
				}
			}
		}
	}
	for _, name := range chain {
		if err := b.add(name, g.Nodes[name]); err != nil {
			return nil, grades, fmt.Errorf("node %q (%s): %w", name, g.Nodes[name].Type, err)
		}
	}
	if b.pending != nil {
		return nil, grades, fmt.Errorf("node %q: an Affine/Linear node with no neuron after it: %w", b.pendingName, ErrUnsupported)
	}
	if len(spec.Layers) == 0 {
		return nil, grades, fmt.Errorf("the graph has no neuron layer: %w", ErrUnsupported)
	}
	if b.integrator && spec.Readout != snn.Membrane {
		return nil, grades, fmt.Errorf("the last neuron node is an integrator (I) but the readout is %q", spec.Readout)
	}
	if !b.integrator {
		if spec.Readout == snn.Membrane && g.Metadata["readout"] == string(snn.Membrane) {
			return nil, grades, fmt.Errorf("metadata readout %q, but the last neuron node is not an integrator (I)", snn.Membrane)
		}
		spec.Readout = snn.Spikes
	}
	net, err := snn.New(spec)
	if err != nil {
		return nil, grades, err
	}
	return net, grades, nil
}

// settings reads the network-wide settings spikebridge writes as graph
// metadata; files from other tools get NIR's defaults (same-step, analog
// input, spike readout, scale 1).
func (g *Graph) settings(opts ImportOptions) (snn.Network, error) {
	md := g.Metadata
	spec := snn.Network{Propagation: snn.SameStep, Readout: snn.Spikes, OutputScale: 1,
		Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}}
	var err error
	if v, ok := md["propagation"]; ok {
		spec.Propagation = snn.Propagation(v)
	}
	if v, ok := md["readout"]; ok {
		spec.Readout = snn.Readout(v)
	}
	if v, ok := md["encoding"]; ok {
		spec.Input.Encoding = snn.Encoding(v)
	}
	for key, dst := range map[string]*float32{"output_scale": &spec.OutputScale, "gain": &spec.Input.Gain,
		"input_threshold": &spec.Input.Threshold, "input_initial_membrane": &spec.Input.InitialMembrane} {
		if v, ok := md[key]; ok {
			if *dst, err = parseFloat32(v); err != nil {
				return spec, fmt.Errorf("metadata %s %q: %w", key, v, err)
			}
		}
	}
	spec.Timesteps = opts.Timesteps
	if v, ok := md["timesteps"]; ok && spec.Timesteps == 0 {
		if spec.Timesteps, err = strconv.Atoi(v); err != nil {
			return spec, fmt.Errorf("metadata timesteps %q: %w", v, err)
		}
	}
	return spec, nil
}

type affine struct {
	in, out int
	weight  []float64 // (out, in)
	bias    []float64 // nil: Linear
}

type builder struct {
	g           *Graph
	dt          float64
	spec        *snn.Network
	scale       []float64 // a Scale node before the first Affine
	pending     *affine
	pendingName string
	integrator  bool
	width       int // outputs of the last layer (or the input size)
}

func (b *builder) add(name string, n *Node) error {
	if b.integrator {
		return fmt.Errorf("a node after the integrator (I) readout: %w", ErrUnsupported)
	}
	switch n.Type {
	case "Flatten":
		return nil // layers are flat vectors already
	case "Scale":
		if len(b.spec.Layers) > 0 || b.pending != nil || b.scale != nil {
			return fmt.Errorf("a Scale node is mapped only right after the Input: %w", ErrUnsupported)
		}
		s, _, err := n.param("scale")
		if err != nil {
			return err
		}
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("scale [%d] is %v, want a finite number", i, v)
			}
		}
		if len(s) == 0 {
			return fmt.Errorf("an empty scale")
		}
		b.scale = s
		return nil
	case "Affine", "Linear":
		if b.pending != nil {
			return fmt.Errorf("two Affine/Linear nodes in a row: %w", ErrUnsupported)
		}
		w, shape, err := n.param("weight")
		if err != nil {
			return err
		}
		if len(shape) != 2 {
			return fmt.Errorf("weight of shape %v, want (out, in)", shape)
		}
		a := &affine{out: shape[0], in: shape[1], weight: w}
		if n.Type == "Affine" {
			if a.bias, shape, err = n.param("bias"); err != nil {
				return err
			}
			if len(a.bias) != a.out {
				return fmt.Errorf("bias of shape %v for %d outputs", shape, a.out)
			}
		}
		if b.scale != nil && len(b.spec.Layers) == 0 {
			if len(b.scale) != a.in && len(b.scale) != 1 {
				return fmt.Errorf("the Scale node holds %d values for %d inputs", len(b.scale), a.in)
			}
			uniform := true
			for _, s := range b.scale {
				uniform = uniform && s == b.scale[0]
			}
			if uniform {
				b.spec.Input.Gain = float32(b.scale[0])
			} else {
				for o := 0; o < a.out; o++ {
					for i := 0; i < a.in; i++ {
						a.weight[o*a.in+i] *= b.scale[i]
					}
				}
			}
		}
		b.pending, b.pendingName = a, name
		return nil
	case "IF", "LIF", "I":
		return b.neuron(name, n)
	}
	return fmt.Errorf("node type %q: %w", n.Type, ErrUnsupported)
}

// vector reads a per-neuron parameter (scalars broadcast).
func vector(n *Node, name string, size int, def *float64) ([]float64, error) {
	v, _, err := n.param(name)
	if err != nil {
		if def == nil {
			return nil, err
		}
		v = []float64{*def}
	}
	if len(v) == 1 && size > 1 {
		c := v[0]
		v = make([]float64, size)
		for i := range v {
			v[i] = c
		}
	}
	if len(v) != size {
		return nil, fmt.Errorf("parameter %q holds %d values for %d neurons", name, len(v), size)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("parameter %q [%d] is %v", name, i, x)
		}
	}
	return v, nil
}

// neuron turns the pending Affine/Linear node and neuron node n into one
// snn layer.
func (b *builder) neuron(name string, n *Node) error {
	a := b.pending
	if a == nil {
		return fmt.Errorf("a neuron node without an Affine/Linear node before it: %w", ErrUnsupported)
	}
	if b.width >= 0 && a.in != b.width {
		return fmt.Errorf("weights take %d inputs, the node before gives %d values", a.in, b.width)
	}
	b.pending = nil
	layerName := name
	if v, ok := n.Metadata["layer"]; ok {
		layerName = v
	}
	l := snn.Layer{Name: layerName, In: a.in, Out: a.out, Leak: 1, Threshold: 1, Reset: snn.ResetZero}
	gain, leakTerm, err := b.drive(n, &l)
	if err != nil {
		return err
	}
	setWeights(&l, a, gain, leakTerm)
	if n.Type != "I" {
		if err := setSpiking(&l, n); err != nil {
			return err
		}
	} else {
		b.integrator = true
		l.Reset = "" // an integrator has no neuron parameters (as model files store it)
	}
	b.spec.Layers = append(b.spec.Layers, l)
	b.width = a.out
	return nil
}

// drive returns, per neuron of node n, the gain that multiplies the input
// current and the constant drive from v_leak, and sets l's leak.
func (b *builder) drive(n *Node, l *snn.Layer) (gain, leakTerm []float64, err error) {
	out := l.Out
	r, err := vector(n, "r", out, nil)
	if err != nil {
		return nil, nil, err
	}
	gain = make([]float64, out)
	leakTerm = make([]float64, out)
	if n.Type != "LIF" { // IF and I integrate dt * r * input
		for o := range gain {
			gain[o] = b.dt * r[o]
		}
		return gain, leakTerm, nil
	}
	zero := 0.0
	tau, err := vector(n, "tau", out, nil)
	if err != nil {
		return nil, nil, err
	}
	vleak, err := vector(n, "v_leak", out, &zero)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range tau {
		if t != tau[0] {
			return nil, nil, fmt.Errorf("per-neuron τ (%v and %v): snn has one leak per layer: %w", tau[0], t, ErrUnsupported)
		}
	}
	if !(tau[0] > 0) {
		return nil, nil, fmt.Errorf("τ = %v, want > 0", tau[0])
	}
	decay := math.Exp(-b.dt / tau[0])
	l.Leak = float32(decay)
	if !(l.Leak > 0) {
		return nil, nil, fmt.Errorf("τ = %v s decays to 0 within dt = %v s: %w", tau[0], b.dt, ErrUnsupported)
	}
	for o := range gain {
		gain[o] = (1 - decay) * r[o]
		leakTerm[o] = (1 - decay) * vleak[o]
	}
	return gain, leakTerm, nil
}

// setWeights gives l the affine node's weights and bias scaled by gain,
// plus the leak drive as bias.
func setWeights(l *snn.Layer, a *affine, gain, leakTerm []float64) {
	out := a.out
	l.Weights = make([]float32, out*a.in)
	for o := 0; o < out; o++ {
		for i := 0; i < a.in; i++ {
			l.Weights[o*a.in+i] = float32(gain[o] * a.weight[o*a.in+i])
		}
	}
	if a.bias != nil || anyNonZero(leakTerm) {
		l.Bias = make([]float32, out)
		for o := range l.Bias {
			var bias float64
			if a.bias != nil {
				bias = gain[o] * a.bias[o]
			}
			l.Bias[o] = float32(bias + leakTerm[o])
		}
	}
}

// setSpiking reads a spiking node's threshold and reset, and what
// spikebridge keeps in metadata (reset mode, strict threshold, v(0)).
func setSpiking(l *snn.Layer, n *Node) error {
	out, md, zero := l.Out, n.Metadata, 0.0
	th, err := vector(n, "v_threshold", out, nil)
	if err != nil {
		return err
	}
	vreset, err := vector(n, "v_reset", out, &zero)
	if err != nil {
		return err
	}
	if anyNonZero(vreset) {
		return fmt.Errorf("v_reset other than 0: snn resets to 0 or by subtraction: %w", ErrUnsupported)
	}
	uniform := true
	for _, t := range th {
		uniform = uniform && t == th[0]
	}
	if uniform && md["per_neuron_thresholds"] != "true" {
		l.Threshold = float32(th[0])
	} else {
		l.Thresholds = make([]float32, out)
		for o, t := range th {
			l.Thresholds[o] = float32(t)
		}
		l.Threshold = float32(th[0])
		if v, ok := md["threshold"]; ok {
			if l.Threshold, err = parseFloat32(v); err != nil {
				return fmt.Errorf("metadata threshold %q: %w", v, err)
			}
		}
	}
	if v, ok := md["reset"]; ok {
		l.Reset = snn.ResetMode(v)
	}
	// NIR's z = v > v_threshold; snn's default is v >= threshold, and its
	// strict test needs next-step propagation, so it is used where our
	// own metadata asks for it.
	l.StrictThreshold = md["strict_threshold"] == "true"
	return setInitialMembrane(l, md)
}

// setInitialMembrane reads v(0) from our metadata (NIR starts at v_leak).
func setInitialMembrane(l *snn.Layer, md map[string]string) error {
	var err error
	if v, ok := md["initial_membrane"]; ok {
		if l.InitialMembrane, err = parseFloat32(v); err != nil {
			return fmt.Errorf("metadata initial_membrane %q: %w", v, err)
		}
	}
	if v, ok := md["initial_membranes"]; ok {
		parts := strings.Split(v, ",")
		if len(parts) != l.Out {
			return fmt.Errorf("metadata initial_membranes holds %d values for %d neurons", len(parts), l.Out)
		}
		l.InitialMembranes = make([]float32, l.Out)
		for o, p := range parts {
			if l.InitialMembranes[o], err = parseFloat32(p); err != nil {
				return fmt.Errorf("metadata initial_membranes [%d] %q: %w", o, p, err)
			}
		}
	}
	return nil
}

func anyNonZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return true
		}
	}
	return false
}
