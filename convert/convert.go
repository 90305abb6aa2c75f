package convert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// Normalization says how the scale λ of a ReLU layer is chosen.
type Normalization string

const (
	// LayerWise uses one λ per layer: the percentile of all its positive
	// activations on the calibration states.
	LayerWise Normalization = "layer"
	// NeuronWise uses one λ per neuron: the percentile of that neuron's
	// positive activations (a neuron that never fires takes its layer's λ).
	NeuronWise Normalization = "neuron"
	// Unit uses λ = 1 everywhere: the threshold is the activation 1, so an IF
	// neuron's rate is the clip(a, 0, 1) a clip-floor student was trained with.
	Unit Normalization = "unit"
)

// Options steer Convert. BaselineOptions gives DESIGN.md's baseline.
type Options struct {
	Normalization Normalization
	// Percentile in (0, 100] of the positive activations that maps to the
	// threshold; 100 is max normalisation.
	Percentile float64
	// Timesteps is the default T stored in the network and the T at which
	// calibration runs (> 0).
	Timesteps int
	// InitialMembrane is v(0) as a fraction of the threshold (0.5 default).
	InitialMembrane float64
	// Reset is the hidden neurons' reset mode ("" = subtraction).
	Reset snn.ResetMode
	// Propagation is SameStep ("") or NextStep.
	Propagation snn.Propagation
	// CalibrationRounds > 0 corrects the biases at Timesteps on the
	// calibration states, this many passes over the layers (see Calibrate).
	CalibrationRounds int
	// Copies > 1 replaces every spiking neuron by this many copies at
	// staggered initial membranes (see Replicate): k times the rate
	// resolution at the same T, for k times the spikes. 0 or 1: none.
	Copies int
}

// BaselineOptions returns DESIGN.md's baseline: layer-wise 99.9th-percentile
// scales, threshold 1, v(0) = θ/2, subtractive reset, same-step propagation,
// no calibration, default T = timesteps.
func BaselineOptions(timesteps int) Options {
	return Options{Normalization: LayerWise, Percentile: 99.9, Timesteps: timesteps,
		InitialMembrane: 0.5, Reset: snn.ResetSubtract, Propagation: snn.SameStep}
}

// Report says what Convert chose, for logs and provenance.
type Report struct {
	// Scales holds λ of every spiking layer (one value per neuron, equal
	// within a layer for LayerWise).
	Scales [][]float32
	// AgreementBefore and AgreementAfter are the shares of calibration
	// states on which the SNN at Timesteps picks the ANN's action, before
	// and after bias calibration (equal when there is none).
	AgreementBefore, AgreementAfter float64
}

// States is a set of observations, row-major (len(Data)/Width rows).
type States struct {
	Data  []float32
	Width int
}

// Rows is the number of states.
func (s States) Rows() int {
	if s.Width <= 0 {
		return 0
	}
	return len(s.Data) / s.Width
}

// Row returns state i (shared).
func (s States) Row(i int) []float32 { return s.Data[i*s.Width : (i+1)*s.Width] }

// Check reports the first reason the states cannot drive a network with
// inputs inputs: none, a wrong width, a ragged length, a non-finite value.
func (s States) Check(inputs int) error {
	switch {
	case s.Width <= 0 || len(s.Data) == 0:
		return errors.New("calibration data: no states")
	case s.Width != inputs:
		return fmt.Errorf("calibration data: states have %d columns, the model takes %d inputs", s.Width, inputs)
	case len(s.Data)%s.Width != 0:
		return fmt.Errorf("calibration data: %d values are not whole rows of %d", len(s.Data), s.Width)
	}
	for i, v := range s.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("calibration data: state %d, column %d is %v, want a finite number", i/s.Width, i%s.Width, v)
		}
	}
	return nil
}

// ErrNotReLU is returned (wrapped) for networks with activations other than
// ReLU between their layers: only distillation applies to them.
var ErrNotReLU = errors.New("not a ReLU network")

// CheckConvertible returns nil when net can be converted directly (Dense
// (ReLU Dense)* [Identity]), else an error naming the first layer that
// cannot (wrapping ErrNotReLU for other activations).
func CheckConvertible(net *model.Network) error {
	_, err := stackOf(net)
	return err
}

// denseStack is a model.Network seen as Dense layers with a ReLU after every
// one but the last: the only shape Convert turns into IF layers.
type denseStack struct {
	layers []model.Layer // the Dense layers
}

// stackOf checks net's layer pattern: Dense (ReLU Dense)* [Identity].
func stackOf(net *model.Network) (*denseStack, error) {
	if net == nil {
		return nil, errors.New("convert: no network")
	}
	var st denseStack
	layers := net.Layers()
	for i := 0; i < len(layers); i++ {
		l := layers[i]
		where := fmt.Sprintf("convert: layer %d (%q, %s)", i, l.Name, l.Kind)
		switch l.Kind {
		case model.Dense:
			if i > 0 && layers[i-1].Kind == model.Dense {
				return nil, fmt.Errorf("%s: follows another dense layer without a ReLU; a spiking layer needs a ReLU before the next dense layer", where)
			}
			st.layers = append(st.layers, l)
		case model.ReLU:
			if i == 0 || layers[i-1].Kind != model.Dense {
				return nil, fmt.Errorf("%s: a ReLU must follow a dense layer", where)
			}
			if i == len(layers)-1 || (i == len(layers)-2 && layers[i+1].Kind == model.Identity) {
				return nil, fmt.Errorf("%s: a ReLU on the output is not supported (the output is a linear integrator)", where)
			}
		case model.Identity:
			if i != len(layers)-1 {
				return nil, fmt.Errorf("%s: identity activation between layers is not supported (want relu)", where)
			}
		default:
			if model.IsActivation(l.Kind) {
				// IF neurons' firing rates approximate ReLU only; a tanh
				// (sigmoid, leaky, ELU) layer would silently become a ReLU.
				return nil, fmt.Errorf("%s: a %s network cannot be converted to IF neurons directly (their rates approximate ReLU, not %s); "+
					"distil it instead: the distill method trains a ReLU student on its actions and needs only its forward pass: %w", where, l.Kind, l.Kind, ErrNotReLU)
			}
			return nil, fmt.Errorf("%s: unsupported layer kind (want dense, relu, identity)", where)
		}
	}
	if len(st.layers) == 0 {
		return nil, errors.New("convert: the network has no dense layer")
	}
	return &st, nil
}

// activations returns the ReLU outputs of every hidden layer for all states:
// acts[l] is (rows, out_l) row-major.
func (st *denseStack) activations(states States) [][]float32 {
	rows := states.Rows()
	acts := make([][]float32, len(st.layers)-1)
	prev, prevWidth := states.Data, states.Width
	for l := 0; l+1 < len(st.layers); l++ {
		d := st.layers[l]
		out := make([]float32, rows*d.Out)
		for r := 0; r < rows; r++ {
			x := prev[r*prevWidth : (r+1)*prevWidth]
			for o := 0; o < d.Out; o++ {
				var sum float32
				if d.Bias != nil {
					sum = d.Bias[o]
				}
				for i, w := range d.Weights[o*d.In : (o+1)*d.In] {
					sum += w * x[i]
				}
				out[r*d.Out+o] = max(sum, 0)
			}
		}
		acts[l] = out
		prev, prevWidth = out, d.Out
	}
	return acts
}

// percentile returns the p-th percentile (linear interpolation, as numpy's
// default) of values, sorting them in place; 0 for none.
func percentile(values []float32, p float64) float32 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	pos := p / 100 * float64(len(values)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(values)-1)
	frac := float32(pos - float64(lo))
	return values[lo] + frac*(values[hi]-values[lo])
}

// scales computes λ for every hidden layer.
// rescaled returns layer l's weights and bias in normalised units,
// W_l * lambda_{l-1} / lambda_l and b_l / lambda_l (no lambda for the input or an output layer).
func rescaled(d model.Layer, l int, lambda [][]float32, hidden bool) (w, b []float32) {
	w = make([]float32, len(d.Weights))
	b = make([]float32, d.Out)
	for o := 0; o < d.Out; o++ {
		outScale := float32(1)
		if hidden {
			outScale = lambda[l][o]
		}
		for i := 0; i < d.In; i++ {
			inScale := float32(1)
			if l > 0 {
				inScale = lambda[l-1][i]
			}
			w[o*d.In+i] = d.Weights[o*d.In+i] * inScale / outScale
		}
		if d.Bias != nil {
			b[o] = d.Bias[o] / outScale
		}
	}
	return w, b
}

func scales(acts [][]float32, widths []int, norm Normalization, p float64) [][]float32 {
	out := make([][]float32, len(acts))
	for l, a := range acts {
		width := widths[l]
		rows := len(a) / width
		var positive []float32
		for _, v := range a {
			if v > 0 {
				positive = append(positive, v)
			}
		}
		layerScale := percentile(positive, p)
		if layerScale <= 0 {
			layerScale = 1 // a dead layer: any scale gives no spikes
		}
		if norm == Unit {
			layerScale = 1
		}
		s := make([]float32, width)
		for o := range s {
			s[o] = layerScale
			if norm != NeuronWise {
				continue
			}
			col := make([]float32, 0, rows)
			for r := 0; r < rows; r++ {
				if v := a[r*width+o]; v > 0 {
					col = append(col, v)
				}
			}
			if v := percentile(col, p); v > 0 {
				s[o] = v
			}
		}
		out[l] = s
	}
	return out
}

func (o Options) check() error {
	switch o.Normalization {
	case LayerWise, NeuronWise, Unit:
	default:
		return fmt.Errorf("convert: normalization %q, want %q, %q or %q", o.Normalization, LayerWise, NeuronWise, Unit)
	}
	if !(o.Percentile > 0 && o.Percentile <= 100) {
		return fmt.Errorf("convert: percentile %v, want a value in (0, 100] (100 = max)", o.Percentile)
	}
	if o.Timesteps <= 0 {
		return fmt.Errorf("convert: timesteps %d, want T > 0", o.Timesteps)
	}
	if math.IsNaN(o.InitialMembrane) || math.IsInf(o.InitialMembrane, 0) {
		return fmt.Errorf("convert: initial membrane %v, want a finite fraction of the threshold", o.InitialMembrane)
	}
	if o.CalibrationRounds < 0 {
		return fmt.Errorf("convert: calibration rounds %d, want >= 0", o.CalibrationRounds)
	}
	if o.Copies < 0 || (o.Copies > 1 && o.CalibrationRounds > 0) {
		return fmt.Errorf("convert: %d copies per neuron with %d calibration rounds: want copies >= 0, and no calibration with copies", o.Copies, o.CalibrationRounds)
	}
	return nil
}

// Convert builds the spiking network of net, with scales from the
// calibration states, and (if opts.CalibrationRounds > 0) calibrates its
// biases at opts.Timesteps on the same states.
func Convert(net *model.Network, calib States, opts Options) (*snn.Network, Report, error) {
	if err := opts.check(); err != nil {
		return nil, Report{}, err
	}
	st, err := stackOf(net)
	if err != nil {
		return nil, Report{}, err
	}
	if err := calib.Check(net.InputSize()); err != nil {
		return nil, Report{}, fmt.Errorf("convert: %w", err)
	}
	widths := make([]int, len(st.layers)-1)
	for l := range widths {
		widths[l] = st.layers[l].Out
	}
	acts := st.activations(calib)
	lambda := scales(acts, widths, opts.Normalization, opts.Percentile)

	spec := snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}, Timesteps: opts.Timesteps,
		Propagation: opts.Propagation, Readout: snn.Membrane, OutputScale: 1}
	for l, d := range st.layers {
		hidden := l+1 < len(st.layers)
		w, b := rescaled(d, l, lambda, hidden)
		name := d.Name
		if name == "" {
			name = "layer" + strconv.Itoa(l+1)
		}
		layer := snn.NewIFLayer(name, d.In, d.Out, w, b)
		layer.InitialMembrane = float32(opts.InitialMembrane)
		layer.Reset = opts.Reset
		if layer.Reset == "" {
			layer.Reset = snn.ResetSubtract
		}
		spec.Layers = append(spec.Layers, layer)
	}
	rep := Report{Scales: lambda}
	out, err := snn.New(spec)
	if err != nil {
		return nil, rep, fmt.Errorf("convert: %w", err)
	}
	if opts.Copies > 1 {
		if out, err = Replicate(out, opts.Copies); err != nil {
			return nil, rep, err
		}
	}
	if rep.AgreementBefore, err = Agreement(net, out, calib, opts.Timesteps); err != nil {
		return nil, rep, err
	}
	rep.AgreementAfter = rep.AgreementBefore
	if opts.CalibrationRounds > 0 {
		if out, err = Calibrate(net, out, calib, opts.Timesteps, opts.CalibrationRounds, lambda); err != nil {
			return nil, rep, err
		}
		if rep.AgreementAfter, err = Agreement(net, out, calib, opts.Timesteps); err != nil {
			return nil, rep, err
		}
	}
	return out, rep, nil
}

// Agreement is the share of states on which the SNN at T picks the ANN's
// action.
func Agreement(net *model.Network, s *snn.Network, states States, T int) (float64, error) {
	if T <= 0 {
		return 0, fmt.Errorf("convert: timesteps %d, want T > 0", T)
	}
	if err := states.Check(net.InputSize()); err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	ws := net.NewWorkspace(1)
	q := make([]float32, net.OutputSize())
	state := s.NewState(1)
	agree := 0
	for r := 0; r < states.Rows(); r++ {
		x := states.Row(r)
		net.Forward(q, x, ws)
		a, err := s.Run(nil, x, state, T)
		if err != nil {
			return 0, fmt.Errorf("convert: state %d: %w", r, err)
		}
		if a == model.Argmax(q) {
			agree++
		}
	}
	return float64(agree) / float64(states.Rows()), nil
}

// AgreementWithLabels is the share of states on which the SNN at T picks
// the given action (one label per state).
func AgreementWithLabels(s *snn.Network, states States, labels []int, T int) (float64, error) {
	if T <= 0 {
		return 0, fmt.Errorf("convert: timesteps %d, want T > 0", T)
	}
	if err := states.Check(s.InputSize()); err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	if len(labels) != states.Rows() {
		return 0, fmt.Errorf("convert: %d labels for %d states", len(labels), states.Rows())
	}
	state := s.NewState(1)
	agree := 0
	for r, label := range labels {
		a, err := s.Run(nil, states.Row(r), state, T)
		if err != nil {
			return 0, fmt.Errorf("convert: state %d: %w", r, err)
		}
		if a == label {
			agree++
		}
	}
	return float64(agree) / float64(len(labels)), nil
}
