package formats

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spikebridge/spikebridge/snn"
)

// Layer kinds of an "snn" model file.
const (
	// LayerKindSpiking is a layer of IF/LIF neurons (NeuronMeta says which).
	LayerKindSpiking = "spiking"
	// LayerKindIntegrator is the non-spiking membrane-readout output layer.
	LayerKindIntegrator = "integrator"
)

// SNNMeta is the JSON description of a spiking model file: ModelMeta's
// fields with kind "snn", spiking layers, and the network-wide settings.
type SNNMeta struct {
	Version    int            `json:"version"`
	Kind       string         `json:"kind"`
	Input      IOSpec         `json:"input"`
	Output     IOSpec         `json:"output"`
	Layers     []SNNLayerMeta `json:"layers"`
	Network    SNNSettings    `json:"network"`
	Provenance Provenance     `json:"provenance"`
}

// SNNLayerMeta is a LayerMeta (with Neuron set for spiking layers) plus the
// optional per-neuron tensors: thresholds (out) and absolute initial
// membranes (out), which replace Neuron.Threshold and
// Neuron.InitialMembrane (a fraction of the threshold) when named.
type SNNLayerMeta struct {
	LayerMeta
	Thresholds       string `json:"thresholds,omitempty"`
	InitialMembranes string `json:"initial_membranes,omitempty"`
}

// SNNSettings are the network-wide simulation settings of snn.Network.
type SNNSettings struct {
	// Timesteps is the default T per decision (0: every run names T).
	Timesteps   int     `json:"timesteps"`
	Propagation string  `json:"propagation"` // "same-step" or "next-step"
	Readout     string  `json:"readout"`     // "membrane" or "spikes"
	OutputScale float64 `json:"output_scale"`
	Encoding    string  `json:"encoding"` // "analog", "rate" or "poisson"
	Gain        float64 `json:"gain"`
	// InputThreshold and InputInitialMembrane are used by rate encoding.
	InputThreshold       float64 `json:"input_threshold,omitempty"`
	InputInitialMembrane float64 `json:"input_initial_membrane,omitempty"`
}

// SaveSNN writes a spiking network and its description to path, atomically.
// meta gives the input/output meaning and provenance; everything else is
// filled from net. The same net and meta always give the same bytes.
func SaveSNN(path string, net *snn.Network, meta SNNMeta) error {
	data, err := EncodeSNN(net, meta)
	return saveEncoded(path, data, err)
}

// EncodeSNN returns the bytes of a spiking model file (see SaveSNN).
func EncodeSNN(net *snn.Network, meta SNNMeta) ([]byte, error) {
	if net == nil || len(net.Layers) == 0 {
		return nil, errors.New("no spiking network to save")
	}
	meta.Version = ModelFormatVersion
	meta.Kind = ModelKindSNN
	meta.Input.Size = net.InputSize()
	meta.Output.Size = net.OutputSize()
	for _, side := range []struct {
		what string
		spec IOSpec
	}{{"input", meta.Input}, {"output", meta.Output}} {
		if side.spec.Names != nil && len(side.spec.Names) != side.spec.Size {
			return nil, fmt.Errorf("%s names %v: %d names for %d values", side.what, side.spec.Names, len(side.spec.Names), side.spec.Size)
		}
	}
	meta.Network = SNNSettings{Timesteps: net.Timesteps, Propagation: string(net.Propagation),
		Readout: string(net.Readout), OutputScale: float64(net.OutputScale),
		Encoding: string(net.Input.Encoding), Gain: float64(net.Input.Gain),
		InputThreshold: float64(net.Input.Threshold), InputInitialMembrane: float64(net.Input.InitialMembrane)}
	tensors := make(map[string]tensorView)
	add := func(layer, name string, values []float32, shape ...uint64) error {
		if _, dup := tensors[name]; dup {
			return fmt.Errorf("layer %q: tensor %q stored twice (layer names must be unique)", layer, name)
		}
		tensors[name] = newFloat32View(values, shape...)
		return nil
	}
	meta.Layers = nil
	last := len(net.Layers) - 1
	for i, l := range net.Layers {
		lm := SNNLayerMeta{LayerMeta: LayerMeta{Name: l.Name, Kind: LayerKindSpiking, In: l.In, Out: l.Out,
			Weights: l.Name + ".weight"}}
		if err := add(l.Name, lm.Weights, l.Weights, uint64(l.Out), uint64(l.In)); err != nil {
			return nil, err
		}
		if l.Bias != nil {
			lm.Bias = l.Name + ".bias"
			if err := add(l.Name, lm.Bias, l.Bias, uint64(l.Out)); err != nil {
				return nil, err
			}
		}
		if i == last && net.Readout == snn.Membrane {
			lm.Kind = LayerKindIntegrator
			meta.Layers = append(meta.Layers, lm)
			continue
		}
		neuronModel := "if"
		if l.Leak != 1 {
			neuronModel = "lif"
		}
		lm.Neuron = &NeuronMeta{Model: neuronModel, Threshold: float64(l.Threshold), Reset: string(l.Reset),
			Leak: float64(l.Leak), InitialMembrane: float64(l.InitialMembrane), StrictThreshold: l.StrictThreshold}
		if lm.Neuron.Reset == "" {
			lm.Neuron.Reset = string(snn.ResetSubtract)
		}
		if l.Thresholds != nil {
			lm.Thresholds = l.Name + ".threshold"
			if err := add(l.Name, lm.Thresholds, l.Thresholds, uint64(l.Out)); err != nil {
				return nil, err
			}
		}
		if l.InitialMembranes != nil {
			lm.InitialMembranes = l.Name + ".initial_membrane"
			if err := add(l.Name, lm.InitialMembranes, l.InitialMembranes, uint64(l.Out)); err != nil {
				return nil, err
			}
		}
		meta.Layers = append(meta.Layers, lm)
	}
	return encodeDescribed(tensors, meta)
}

// LoadSNN reads a spiking model file and validates it: the description,
// every tensor against it, and the network (snn.New).
func LoadSNN(path string) (*snn.Network, SNNMeta, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, SNNMeta{}, err
	}
	defer f.Close()
	return ReadSNN(f, size, path)
}

// ReadSNN reads a spiking model file of size bytes from r; name is used in
// errors.
func ReadSNN(r io.ReaderAt, size int64, name string) (*snn.Network, SNNMeta, error) {
	st, err := readSafetensors(r, size)
	if err != nil {
		return nil, SNNMeta{}, fmt.Errorf("formats: %s: %w", name, err)
	}
	net, meta, err := snnFromSafetensors(st)
	if err != nil {
		return nil, meta, fmt.Errorf("formats: %s: %w", name, err)
	}
	return net, meta, nil
}

// ModelKind returns the kind ("ann" or "snn") of a spikebridge model file
// without building the network.
func ModelKind(path string) (string, error) {
	f, size, err := openSized(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := readSafetensors(f, size)
	if err != nil {
		return "", fmt.Errorf("formats: %s: %w", path, err)
	}
	doc, ok := st.metadata[ModelMetadataKey]
	if !ok {
		return "", fmt.Errorf("formats: %s: not a spikebridge model: __metadata__ has no %q entry", path, ModelMetadataKey)
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(doc), &head); err != nil {
		return "", fmt.Errorf("formats: %s: __metadata__ %q: %w", path, ModelMetadataKey, err)
	}
	return head.Kind, nil
}

func finiteSetting(what string, v float64) (float32, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
		return 0, fmt.Errorf("%s is %v, want a finite float32", what, v)
	}
	return float32(v), nil
}

func snnFromSafetensors(st *stFile) (*snn.Network, SNNMeta, error) {
	var meta SNNMeta
	doc, ok := st.metadata[ModelMetadataKey]
	if !ok {
		return nil, meta, fmt.Errorf("not a spikebridge model: __metadata__ has no %q entry", ModelMetadataKey)
	}
	if err := json.Unmarshal([]byte(doc), &meta); err != nil {
		return nil, meta, fmt.Errorf("__metadata__ %q: %w", ModelMetadataKey, err)
	}
	switch {
	case meta.Version < 1:
		return nil, meta, fmt.Errorf("__metadata__ %q: version %d, want %d", ModelMetadataKey, meta.Version, ModelFormatVersion)
	case meta.Version > ModelFormatVersion:
		return nil, meta, fmt.Errorf("model format version %d is newer than the %d this spikebridge reads", meta.Version, ModelFormatVersion)
	}
	if meta.Kind != ModelKindSNN {
		return nil, meta, fmt.Errorf("model kind %q, want %q (an ANN model file: load it with LoadModel)", meta.Kind, ModelKindSNN)
	}
	if len(meta.Layers) == 0 {
		return nil, meta, errors.New("metadata lists no layers")
	}
	spec, err := snnNetworkSpec(meta.Network)
	if err != nil {
		return nil, meta, err
	}
	used := make(map[string]string)
	last := len(meta.Layers) - 1
	for i, lm := range meta.Layers {
		l, err := snnLayerFromMeta(st, used, i, lm, i == last && spec.Readout != snn.Spikes)
		if err != nil {
			return nil, meta, err
		}
		spec.Layers = append(spec.Layers, l)
	}
	for _, t := range st.tensors {
		if _, ok := used[t.name]; !ok {
			return nil, meta, fmt.Errorf("tensor %q: not used by any layer in the metadata", t.name)
		}
	}
	net, err := snn.New(spec)
	if err != nil {
		return nil, meta, err
	}
	for _, side := range []struct {
		what string
		spec IOSpec
		want int
	}{{"input", meta.Input, net.InputSize()}, {"output", meta.Output, net.OutputSize()}} {
		if side.spec.Size != side.want {
			return nil, meta, fmt.Errorf("metadata %s size %d, but the layers give %d", side.what, side.spec.Size, side.want)
		}
	}
	return net, meta, nil
}

// snnNetworkSpec is the network-wide part of snn.Network from the file's
// settings (finite float32 values only).
func snnNetworkSpec(ns SNNSettings) (snn.Network, error) {
	spec := snn.Network{Timesteps: ns.Timesteps, Propagation: snn.Propagation(ns.Propagation),
		Readout: snn.Readout(ns.Readout), Input: snn.InputOf[float32]{Encoding: snn.Encoding(ns.Encoding)}}
	var err error
	if spec.OutputScale, err = finiteSetting("network output_scale", ns.OutputScale); err != nil {
		return spec, err
	}
	if spec.Input.Gain, err = finiteSetting("network gain", ns.Gain); err != nil {
		return spec, err
	}
	if spec.Input.Threshold, err = finiteSetting("network input_threshold", ns.InputThreshold); err != nil {
		return spec, err
	}
	if spec.Input.InitialMembrane, err = finiteSetting("network input_initial_membrane", ns.InputInitialMembrane); err != nil {
		return spec, err
	}
	return spec, nil
}

// snnLayerFromMeta reads layer i (integrator: the last layer of a
// membrane-readout network) with its tensors, recording them in used.
func snnLayerFromMeta(st *stFile, used map[string]string, i int, lm SNNLayerMeta, integrator bool) (snn.Layer, error) {
	var err error
	where := fmt.Sprintf("layer %q", lm.Name)
	if lm.Name == "" {
		where = fmt.Sprintf("layer %d", i)
	}
	if lm.In <= 0 || lm.Out <= 0 {
		return snn.Layer{}, fmt.Errorf("%s: sizes must be positive, got in=%d out=%d", where, lm.In, lm.Out)
	}
	l := snn.Layer{Name: lm.Name, In: lm.In, Out: lm.Out}
	switch lm.Kind {
	case LayerKindIntegrator:
		if !integrator {
			return l, fmt.Errorf("%s: an integrator must be the last layer of a %q-readout network", where, snn.Membrane)
		}
		if lm.Neuron != nil || lm.Thresholds != "" || lm.InitialMembranes != "" {
			return l, fmt.Errorf("%s: an integrator has no neuron parameters", where)
		}
		l.Threshold, l.Leak = 1, 1
	case LayerKindSpiking:
		if integrator {
			return l, fmt.Errorf("%s: the last layer of a %q-readout network must be an %q", where, snn.Membrane, LayerKindIntegrator)
		}
		if err := spikingNeuron(st, used, where, lm, &l); err != nil {
			return l, err
		}
	default:
		return l, fmt.Errorf("%s: layer kind %q, want %q or %q", where, lm.Kind, LayerKindSpiking, LayerKindIntegrator)
	}
	if lm.Weights == "" {
		return l, fmt.Errorf("%s: names no weights tensor", where)
	}
	if l.Weights, err = float32Tensor(st, used, where, lm.Weights, lm.Out, lm.In); err != nil {
		return l, err
	}
	if lm.Bias != "" {
		if l.Bias, err = float32Tensor(st, used, where, lm.Bias, lm.Out); err != nil {
			return l, err
		}
	}
	return l, nil
}

// spikingNeuron sets the neuron parameters (and per-neuron tensors) of a
// spiking layer.
func spikingNeuron(st *stFile, used map[string]string, where string, lm SNNLayerMeta, l *snn.Layer) error {
	var err error
	nm := lm.Neuron
	if nm == nil {
		return fmt.Errorf("%s: spiking layer without neuron parameters", where)
	}
	switch {
	case nm.Model == "if" && nm.Leak != 1:
		return fmt.Errorf("%s: neuron model \"if\" with leak %v, want 1", where, float32(nm.Leak))
	case nm.Model != "if" && nm.Model != "lif":
		return fmt.Errorf("%s: neuron model %q, want \"if\" or \"lif\"", where, nm.Model)
	}
	if l.Threshold, err = finiteSetting(where+": threshold", nm.Threshold); err != nil {
		return err
	}
	if l.Leak, err = finiteSetting(where+": leak", nm.Leak); err != nil {
		return err
	}
	if l.InitialMembrane, err = finiteSetting(where+": initial_membrane", nm.InitialMembrane); err != nil {
		return err
	}
	l.Reset = snn.ResetMode(nm.Reset)
	l.StrictThreshold = nm.StrictThreshold
	if lm.Thresholds != "" {
		if l.Thresholds, err = float32Tensor(st, used, where, lm.Thresholds, lm.Out); err != nil {
			return err
		}
	}
	if lm.InitialMembranes != "" {
		if l.InitialMembranes, err = float32Tensor(st, used, where, lm.InitialMembranes, lm.Out); err != nil {
			return err
		}
	}
	return nil
}
