package formats

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/nlpodyssey/safetensors"

	"github.com/spikebridge/spikebridge/snn"
)

// ModelKindRecurrent is the kind of a recurrent spiking network file
// (snn.Recurrent, trained by e-prop): float64 tensors input_weights
// (neurons, inputs), recurrent_weights (neurons, neurons) with a zero
// diagonal, output_weights (outputs, neurons), adaptation (neurons), and
// optionally feedback (neurons, outputs), the e-prop feedback weights.
const ModelKindRecurrent = "recurrent-snn"

// Tensor names of a recurrent model file.
const (
	RecurrentInputWeights     = "input_weights"
	RecurrentRecurrentWeights = "recurrent_weights"
	RecurrentOutputWeights    = "output_weights"
	RecurrentAdaptation       = "adaptation"
	RecurrentFeedback         = "feedback"
)

// RecurrentMeta is the JSON description of a recurrent model file.
type RecurrentMeta struct {
	Version    int                `json:"version"`
	Kind       string             `json:"kind"`
	Input      IOSpec             `json:"input"`
	Output     IOSpec             `json:"output"`
	Neurons    int                `json:"neurons"`
	Population RecurrentSettings  `json:"population"`
	Provenance Provenance         `json:"provenance"`
	Task       map[string]float64 `json:"task,omitempty"`
}

// RecurrentSettings are snn.Recurrent's scalar parameters (dt = 1 step).
type RecurrentSettings struct {
	Leak            float64 `json:"leak"`
	Threshold       float64 `json:"threshold"`
	RefractorySteps int     `json:"refractory_steps"`
	AdaptationDecay float64 `json:"adaptation_decay"`
	ReadoutLeak     float64 `json:"readout_leak"`
	Output          string  `json:"output"`
}

// SaveRecurrent writes net (and feedback, when non-nil) with meta's input,
// output, provenance and task to path, atomically; the rest of meta is
// filled from net. The same arguments always give the same bytes.
func SaveRecurrent(path string, net *snn.Recurrent, feedback []float64, meta RecurrentMeta) error {
	data, err := EncodeRecurrent(net, feedback, meta)
	return saveEncoded(path, data, err)
}

// EncodeRecurrent returns the bytes of a recurrent model file.
func EncodeRecurrent(net *snn.Recurrent, feedback []float64, meta RecurrentMeta) ([]byte, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	N, In, K := uint64(net.Neurons), uint64(net.Inputs), uint64(net.Outputs)
	if feedback != nil && len(feedback) != net.Neurons*net.Outputs {
		return nil, fmt.Errorf("feedback weights: %d values, want neurons×outputs = %d×%d", len(feedback), N, K)
	}
	meta.Version = ModelFormatVersion
	meta.Kind = ModelKindRecurrent
	meta.Neurons = net.Neurons
	meta.Input.Size, meta.Output.Size = net.Inputs, net.Outputs
	meta.Population = RecurrentSettings{
		Leak: net.Leak, Threshold: net.Threshold, RefractorySteps: net.RefractorySteps,
		AdaptationDecay: net.AdaptationDecay, ReadoutLeak: net.ReadoutLeak, Output: string(net.Output),
	}
	tensors := map[string]tensorView{
		RecurrentInputWeights:     newFloat64View(net.InputWeights, N, In),
		RecurrentRecurrentWeights: newFloat64View(net.RecurrentWeights, N, N),
		RecurrentOutputWeights:    newFloat64View(net.OutputWeights, K, N),
		RecurrentAdaptation:       newFloat64View(net.Adaptation, N),
	}
	if feedback != nil {
		tensors[RecurrentFeedback] = newFloat64View(feedback, N, K)
	}
	return encodeDescribed(tensors, meta)
}

// LoadRecurrent reads a recurrent model file and checks every tensor and
// parameter; feedback is nil when the file has none.
func LoadRecurrent(path string) (net *snn.Recurrent, feedback []float64, meta RecurrentMeta, err error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, nil, meta, err
	}
	defer f.Close()
	return ReadRecurrent(f, size, path)
}

// ReadRecurrent reads a recurrent model file of size bytes from r; name is
// used in errors.
func ReadRecurrent(r io.ReaderAt, size int64, name string) (*snn.Recurrent, []float64, RecurrentMeta, error) {
	var meta RecurrentMeta
	st, err := readSafetensors(r, size)
	if err != nil {
		return nil, nil, meta, fmt.Errorf("formats: %s: %w", name, err)
	}
	net, feedback, meta, err := recurrentFromSafetensors(st)
	if err != nil {
		return nil, nil, meta, fmt.Errorf("formats: %s: %w", name, err)
	}
	return net, feedback, meta, nil
}

func recurrentFromSafetensors(st *stFile) (*snn.Recurrent, []float64, RecurrentMeta, error) {
	var meta RecurrentMeta
	doc, ok := st.metadata[ModelMetadataKey]
	if !ok {
		return nil, nil, meta, fmt.Errorf("not a spikebridge model: __metadata__ has no %q entry", ModelMetadataKey)
	}
	if err := json.Unmarshal([]byte(doc), &meta); err != nil {
		return nil, nil, meta, fmt.Errorf("__metadata__ %q: %w", ModelMetadataKey, err)
	}
	if meta.Kind != ModelKindRecurrent {
		return nil, nil, meta, fmt.Errorf("model kind %q, want %q", meta.Kind, ModelKindRecurrent)
	}
	if meta.Version < 1 || meta.Version > ModelFormatVersion {
		return nil, nil, meta, fmt.Errorf("format version %d, this build reads 1 to %d", meta.Version, ModelFormatVersion)
	}
	const maxSize = 1 << 20
	N, In, K := meta.Neurons, meta.Input.Size, meta.Output.Size
	if N <= 0 || In <= 0 || K <= 0 || N > maxSize || In > maxSize || K > maxSize {
		return nil, nil, meta, fmt.Errorf("%d neurons, %d inputs, %d outputs: want each between 1 and %d", N, In, K, maxSize)
	}
	p := meta.Population
	net := &snn.Recurrent{
		Inputs: In, Neurons: N, Outputs: K,
		Leak: p.Leak, Threshold: p.Threshold, RefractorySteps: p.RefractorySteps,
		AdaptationDecay: p.AdaptationDecay, ReadoutLeak: p.ReadoutLeak, Output: snn.ReadoutOutput(p.Output),
	}
	var err error
	for _, t := range []struct {
		name  string
		dst   *[]float64
		shape []int
	}{
		{RecurrentInputWeights, &net.InputWeights, []int{N, In}},
		{RecurrentRecurrentWeights, &net.RecurrentWeights, []int{N, N}},
		{RecurrentOutputWeights, &net.OutputWeights, []int{K, N}},
		{RecurrentAdaptation, &net.Adaptation, []int{N}},
	} {
		if *t.dst, err = float64Tensor(st, t.name, t.shape); err != nil {
			return nil, nil, meta, err
		}
	}
	var feedback []float64
	if _, ok := st.byName[RecurrentFeedback]; ok {
		if feedback, err = float64Tensor(st, RecurrentFeedback, []int{N, K}); err != nil {
			return nil, nil, meta, err
		}
		for i, v := range feedback {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, meta, fmt.Errorf("tensor %q: element %s is %v, want a finite value", RecurrentFeedback, indexString(i, []int{N, K}), v)
			}
		}
	}
	for _, t := range st.tensors {
		switch t.name {
		case RecurrentInputWeights, RecurrentRecurrentWeights, RecurrentOutputWeights, RecurrentAdaptation, RecurrentFeedback:
		default:
			return nil, nil, meta, fmt.Errorf("tensor %q is not part of a recurrent model", t.name)
		}
	}
	if err := net.Validate(); err != nil {
		return nil, nil, meta, err
	}
	return net, feedback, meta, nil
}

// float64Tensor returns tensor name, which must be F64 of the given shape.
func float64Tensor(st *stFile, name string, shape []int) ([]float64, error) {
	i, ok := st.byName[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q is missing", name)
	}
	t := st.tensors[i]
	if t.dtype != safetensors.F64 {
		return nil, fmt.Errorf("tensor %q has dtype %s, want F64", name, t.dtype)
	}
	got := make([]int, len(t.shape))
	for d, v := range t.shape {
		got[d] = int(v)
	}
	if !slices.Equal(got, shape) || len(t.data) != 8*recurrentElements(shape) {
		return nil, fmt.Errorf("tensor %q has shape %v (%d bytes), want %v", name, t.shape, len(t.data), shape)
	}
	out := make([]float64, recurrentElements(shape))
	for k := range out {
		out[k] = math.Float64frombits(binary.LittleEndian.Uint64(t.data[8*k:]))
	}
	return out, nil
}

func recurrentElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
