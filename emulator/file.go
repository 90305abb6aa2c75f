package emulator

import (
	"encoding/json"
	"fmt"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// Kinds of emulator: "rate" (an MLP on a time-delay window) or "spiking"
// (a recurrent LIF network trained with surrogate-gradient BPTT or, on the
// forward task, a spiking forward model).
const (
	KindRate    = "rate"
	KindSpiking = "spiking"
)

// Doc is the description stored with a trained emulator: enough to
// rebuild its samples from the probe file and reproduce its figures.
type Doc struct {
	FormatVersion int                 `json:"format_version"`
	Kind          string              `json:"kind"`
	Task          probe.Task          `json:"task"`
	Windows       probe.WindowOptions `json:"windows"`
	Config        TrainConfig         `json:"config"`
	Source        string              `json:"source,omitempty"`
	// Spiking emulators: sizes and neuron settings.
	StepInputs int     `json:"step_inputs,omitempty"`
	Context    int     `json:"context,omitempty"`
	Hidden     int     `json:"hidden,omitempty"`
	Outputs    int     `json:"outputs,omitempty"`
	Leak       float32 `json:"leak,omitempty"`
	TraceDecay float32 `json:"trace_decay,omitempty"`
	Threshold  float32 `json:"threshold,omitempty"`
	Feedback   bool    `json:"feedback,omitempty"`
	// Timesteps is T of a spiking forward model (kind spiking, forward
	// task): an MLP's weights run as integrate-and-fire layers for T steps
	// per prediction (train.TrainSpikingForward trains it), stored as a model file.
	Timesteps int `json:"timesteps,omitempty"`
}

// Model is a loaded emulator file.
type Model struct {
	Doc     Doc
	Rate    *model.Network // a rate emulator, or a spiking forward model's weights
	Spiking *Spiking
}

// SpikingForward reports whether m is a spiking forward model: Rate holds
// its weights, run as a spiking network at Doc.Timesteps.
func (m *Model) SpikingForward() bool {
	return m.Rate != nil && m.Doc.Kind == KindSpiking
}

// SpikingForwardRegressor is m's spiking forward model in snn/ (see
// NewSpikingForwardRegressor), run at Doc.Timesteps steps per prediction.
func (m *Model) SpikingForwardRegressor() (*convert.Regressor, error) {
	return NewSpikingForwardRegressor(m.Rate, m.Doc.Timesteps)
}

// NewSpikingForwardRegressor runs the MLP net as a spiking forward model
// at T steps per prediction: the network convert builds from it with unit
// scales, on snn/. It copies net's weights: a network that changes later
// (one being trained) needs a new regressor.
func NewSpikingForwardRegressor(net *model.Network, T int) (*convert.Regressor, error) {
	copts := convert.BaselineOptions(T)
	copts.Normalization = convert.Unit
	calib := make([]float32, net.InputSize()) // unit scales need no statistics
	s, _, err := convert.ConvertRegression(net, convert.States{Data: calib, Width: len(calib)}, copts)
	if err != nil {
		return nil, fmt.Errorf("spiking forward model: %w", err)
	}
	return convert.NewRegressor(s, T)
}

// SettingsKey is the provenance setting of a rate emulator's model file
// that holds its Doc as JSON.
const SettingsKey = "emulator"

func Save(path string, m *Model) error {
	m.Doc.FormatVersion = 1
	doc, err := json.Marshal(m.Doc)
	if err != nil {
		return fmt.Errorf("%s: encode emulator description: %w", path, err)
	}
	if m.Rate != nil {
		return formats.SaveModel(path, m.Rate, formats.ModelMeta{
			Input:  formats.IOSpec{Meaning: "emulator features, standardised (" + string(m.Doc.Task.Kind) + " task)"},
			Output: formats.IOSpec{Meaning: "emulator outputs, standardised"},
			Provenance: formats.Provenance{Source: m.Doc.Source, Tool: "spikebridge train emulator",
				Settings: map[string]string{SettingsKey: string(doc)}},
		})
	}
	e := m.Spiking
	f := len(e.WIn) / e.Hidden // step inputs, context and, with feedback, the outputs
	return formats.SaveFloat32Tensors(path, []formats.Float32Tensor{
		{Name: "input.weight", Shape: []int{e.Hidden, f}, Data: e.WIn},
		{Name: "input.bias", Shape: []int{e.Hidden}, Data: e.B},
		{Name: "recurrent.weight", Shape: []int{e.Hidden, e.Hidden}, Data: e.WRec},
		{Name: "readout.weight", Shape: []int{e.Outputs, e.Hidden}, Data: e.WOut},
		{Name: "readout.bias", Shape: []int{e.Outputs}, Data: e.BOut},
	}, map[string]string{formats.EmulatorMetadataKey: string(doc)})
}

// Load reads a rate emulator (a model file with an emulator
// description) or a spiking emulator file.
func Load(path string) (*Model, error) {
	st, err := formats.LoadSafetensors(path)
	if err != nil {
		return nil, err
	}
	m := &Model{}
	if raw, ok := st.Metadata[formats.EmulatorMetadataKey]; ok {
		if err := json.Unmarshal([]byte(raw), &m.Doc); err != nil {
			return nil, fmt.Errorf("%s: emulator description: %w", path, err)
		}
		tensors, _, err := formats.LoadFloat32Tensors(path)
		if err != nil {
			return nil, err
		}
		d := m.Doc
		e := &Spiking{Window: d.Task.Window, StepInputs: d.StepInputs, Context: d.Context, Hidden: d.Hidden,
			Outputs: d.Outputs, Leak: d.Leak, TraceDecay: d.TraceDecay, Threshold: d.Threshold, Feedback: d.Feedback}
		for name, dst := range map[string]*[]float32{"input.weight": &e.WIn, "input.bias": &e.B, "recurrent.weight": &e.WRec,
			"readout.weight": &e.WOut, "readout.bias": &e.BOut} {
			t, ok := tensors[name]
			if !ok {
				return nil, fmt.Errorf("%s: spiking emulator: no tensor %q", path, name)
			}
			*dst = t.Data
		}
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m.Spiking = e
	} else {
		net, meta, err := formats.LoadModel(path)
		if err != nil {
			return nil, err
		}
		raw, ok := meta.Provenance.Settings[SettingsKey]
		if !ok {
			return nil, fmt.Errorf("%s: not an emulator (no emulator description in the model file; train one with `spikebridge train emulator`)", path)
		}
		if err := json.Unmarshal([]byte(raw), &m.Doc); err != nil {
			return nil, fmt.Errorf("%s: emulator description: %w", path, err)
		}
		m.Rate = net
	}
	t := &m.Doc.Task
	if t.Kind != probe.ForwardTask && t.Kind != probe.SequenceTask || t.Window < 2 || t.InputSize <= 0 || t.TargetSize <= 0 {
		return nil, fmt.Errorf("%s: emulator task %+v is not valid", path, *t)
	}
	return m, nil
}

// Predictor returns the emulator's standardised predictor. A clip-floor
// rate emulator runs with its hidden activations clipped to [0, 1] (not
// rounded): the T → ∞ limit of its SNN with unit scales.
func (m *Model) Predictor() probe.Predictor {
	if m.SpikingForward() {
		r, err := m.SpikingForwardRegressor()
		if err != nil {
			return func(dst, x []float32) error { return err }
		}
		return r.Predict
	}
	if m.Rate != nil && m.Doc.Config.ClipFloor > 0 {
		f := model.ClipFloorPredictor(m.Rate, 0)
		return func(dst, x []float32) error { f(dst, x); return nil }
	}
	if m.Rate != nil {
		ws := m.Rate.NewWorkspace(1)
		return func(dst, x []float32) error { m.Rate.Forward(dst, x, ws); return nil }
	}
	st := m.Spiking.NewState()
	return func(dst, x []float32) error { m.Spiking.Forward(dst, x, st); return nil }
}

// Data is a probe file cut into the emulator's samples.
type Data struct {
	Probe      *probe.Data
	Split      *probe.WindowSplit
	Train, Val *probe.Samples
}

// LoadSamples loads the probe file and builds the training and
// validation samples of task with the stored windowing.
func LoadSamples(path string, task *probe.Task, windows probe.WindowOptions) (*Data, error) {
	p, err := probe.Load(path)
	if err != nil {
		return nil, err
	}
	split, err := probe.SplitWindows(p, windows)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &Data{Probe: p, Split: split}
	if task.Kind == "" {
		return d, nil
	}
	if d.Train, err = task.Samples(p, split.Train); err != nil {
		return nil, fmt.Errorf("%s: training windows: %w", path, err)
	}
	if d.Val, err = task.Samples(p, split.Val); err != nil {
		return nil, fmt.Errorf("%s: validation windows: %w", path, err)
	}
	return d, nil
}
