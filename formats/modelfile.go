package formats

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/nlpodyssey/safetensors"

	"github.com/spikebridge/spikebridge/model"
)

// ModelFormatVersion is the version of the model-file schema this package
// writes and the newest it reads.
const ModelFormatVersion = 1

// ModelMetadataKey is the key of safetensors' __metadata__ map (a string to
// string map) that holds the spikebridge description as one JSON document.
const ModelMetadataKey = "spikebridge"

// ModelKindANN is the kind of an artificial (non-spiking) network;
// ModelKindSNN, of a spiking one (SaveSNN).
const (
	ModelKindANN = "ann"
	ModelKindSNN = "snn"
)

// maxModelHeaderBytes bounds the safetensors JSON header we accept (the
// safetensors library's own limit), checked before anything is allocated.
const maxModelHeaderBytes = 100_000_000

// ModelMeta is the JSON description stored in a model file. Together with
// the tensors it is all that is needed to run the network. Field names, once
// released, only grow; readers ignore fields they do not know.
type ModelMeta struct {
	// Version is the schema version (ModelFormatVersion when written).
	Version int `json:"version"`
	// Kind is "ann" (ModelKindANN); spiking files (snnfile.go) say "snn".
	Kind string `json:"kind"`
	// Input and Output say what the network's vectors mean.
	Input  IOSpec `json:"input"`
	Output IOSpec `json:"output"`
	// Layers lists the layers in order; SaveModel fills it from the network.
	Layers []LayerMeta `json:"layers"`
	// Provenance says where the model came from.
	Provenance Provenance `json:"provenance"`
}

// IOSpec describes a network's input or output vector.
type IOSpec struct {
	Size int `json:"size"`
	// Meaning is free text such as "observation" or "q-values".
	Meaning string `json:"meaning,omitempty"`
	// Names, when given, names each element (len(Names) == Size).
	Names []string `json:"names,omitempty"`
}

// LayerMeta describes one layer. Activations are layers of their own (kind
// "relu", "identity"), as in model.Network. Dense layers name their weight
// tensor, stored float32 (out, in) row-major, and optionally a bias (out).
type LayerMeta struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	In      int    `json:"in"`
	Out     int    `json:"out"`
	Weights string `json:"weights,omitempty"`
	Bias    string `json:"bias,omitempty"`
	// Alpha is the parameter of "leaky_relu" (negative slope) and "elu".
	Alpha float64 `json:"alpha,omitempty"`
	// Neuron holds the spiking parameters of a layer in an "snn" model.
	Neuron *NeuronMeta `json:"neuron,omitempty"`
}

// NeuronMeta holds the parameters of a spiking layer (used by "snn" models).
type NeuronMeta struct {
	Model           string  `json:"model"` // "if" or "lif"
	Threshold       float64 `json:"threshold"`
	Reset           string  `json:"reset"` // "subtract" or "zero"
	Leak            float64 `json:"leak"`
	InitialMembrane float64 `json:"initial_membrane"`
	Timesteps       int     `json:"timesteps,omitempty"`
	// StrictThreshold: the neuron spikes when v > threshold (DSQN's
	// Heaviside), not v >= threshold; absent means >=.
	StrictThreshold bool `json:"strict_threshold,omitempty"`
}

// Provenance records how a model file was made. It holds no timestamp unless
// the caller sets Created, so the same inputs give byte-identical files.
type Provenance struct {
	Source  string `json:"source,omitempty"`
	Tool    string `json:"tool,omitempty"`
	Command string `json:"command,omitempty"`
	// Settings are conversion or training settings, by name (written sorted).
	Settings map[string]string `json:"settings,omitempty"`
	Created  string            `json:"created,omitempty"`
}

// CartPoleQMeta returns the input/output description of a CartPole
// Q-network: observation (x, x_dot, theta, theta_dot) in, two Q-values out.
func CartPoleQMeta() ModelMeta {
	return ModelMeta{
		Input:  IOSpec{Size: 4, Meaning: "observation", Names: []string{"x", "x_dot", "theta", "theta_dot"}},
		Output: IOSpec{Size: 2, Meaning: "q-values", Names: []string{"push_left", "push_right"}},
	}
}

// tensorView is a little-endian tensor for the safetensors writer.
type tensorView struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

func (v tensorView) DType() safetensors.DType { return v.dtype }
func (v tensorView) Shape() []uint64          { return v.shape }
func (v tensorView) Data() []byte             { return v.data }
func (v tensorView) DataLen() uint64          { return uint64(len(v.data)) }

func newFloat32View(values []float32, shape ...uint64) tensorView {
	data := make([]byte, 4*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return tensorView{dtype: safetensors.F32, shape: shape, data: data}
}

func newFloat64View(values []float64, shape ...uint64) tensorView {
	data := make([]byte, 8*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(x))
	}
	return tensorView{dtype: safetensors.F64, shape: shape, data: data}
}

// SaveModel writes net and its description to path, atomically. meta gives
// the kind, input/output meaning and provenance; its Version, Layers and
// Input/Output sizes are filled from net. The same net and meta always give
// the same bytes.
func SaveModel(path string, net *model.Network, meta ModelMeta) error {
	data, err := EncodeModel(net, meta)
	return saveEncoded(path, data, err)
}

// EncodeModel returns the bytes of a model file (see SaveModel).
func EncodeModel(net *model.Network, meta ModelMeta) ([]byte, error) {
	if net == nil {
		return nil, errors.New("no network to save")
	}
	meta.Version = ModelFormatVersion
	if meta.Kind == "" {
		meta.Kind = ModelKindANN
	}
	if meta.Kind != ModelKindANN {
		return nil, fmt.Errorf("model kind %q: only %q networks can be saved by this version", meta.Kind, ModelKindANN)
	}
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
	tensors := make(map[string]tensorView)
	owner := make(map[string]string) // tensor name -> layer, to refuse collisions
	addTensor := func(layer, name string, view tensorView) error {
		if other, dup := owner[name]; dup {
			return fmt.Errorf("layers %q and %q both store tensor %q", other, layer, name)
		}
		owner[name] = layer
		tensors[name] = view
		return nil
	}
	meta.Layers = nil
	for _, l := range net.Layers() {
		lm := LayerMeta{Name: l.Name, Kind: string(l.Kind), In: l.In, Out: l.Out}
		if l.Kind == model.LeakyReLU || l.Kind == model.ELU {
			lm.Alpha = float64(l.Alpha)
		}
		if l.Kind == model.Dense {
			lm.Weights = l.Name + ".weight"
			if err := addTensor(l.Name, lm.Weights, newFloat32View(l.Weights, uint64(l.Out), uint64(l.In))); err != nil {
				return nil, err
			}
			if l.Bias != nil {
				lm.Bias = l.Name + ".bias"
				if err := addTensor(l.Name, lm.Bias, newFloat32View(l.Bias, uint64(l.Out))); err != nil {
					return nil, err
				}
			}
		}
		meta.Layers = append(meta.Layers, lm)
	}
	return encodeDescribed(tensors, meta)
}

// encodeDescribed writes tensors with meta as the JSON document under
// ModelMetadataKey (model, SNN and recurrent files alike). The library sorts tensors by
// dtype then name and writes the header from a map (sorted keys by
// encoding/json): the output is deterministic.
func encodeDescribed(tensors map[string]tensorView, meta any) ([]byte, error) {
	doc, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(tensors, map[string]string{ModelMetadataKey: string(doc)}, &buf); err != nil {
		return nil, fmt.Errorf("encode safetensors: %w", err)
	}
	return buf.Bytes(), nil
}

// LoadModel reads a model file written by SaveModel (or by anyone following
// the same schema) and validates every tensor against its description.
func LoadModel(path string) (*model.Network, ModelMeta, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, ModelMeta{}, err
	}
	defer f.Close()
	return ReadModel(f, size, path)
}

// ReadModel reads a model file of size bytes from r; name is used in errors.
func ReadModel(r io.ReaderAt, size int64, name string) (*model.Network, ModelMeta, error) {
	st, err := readSafetensors(r, size)
	if err != nil {
		return nil, ModelMeta{}, fmt.Errorf("formats: %s: %w", name, err)
	}
	net, meta, err := modelFromSafetensors(st)
	if err != nil {
		return nil, ModelMeta{}, fmt.Errorf("formats: %s: %w", name, err)
	}
	return net, meta, nil
}

// stFile is a parsed safetensors file: its __metadata__ and its tensors in
// file order, each a view into data.
type stFile struct {
	metadata map[string]string
	tensors  []stTensor
	byName   map[string]int
}

type stTensor struct {
	name  string
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

// readSafetensors reads and checks a whole safetensors file. The declared
// header length is checked against size before the file is read, and nothing
// larger than size is ever allocated.
func readSafetensors(r io.ReaderAt, size int64) (*stFile, error) {
	if size < 8 {
		return nil, fmt.Errorf("not a safetensors file: %d bytes, need at least 8 for the header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("read header length: %w", err)
	}
	headerLen := binary.LittleEndian.Uint64(lenBuf[:])
	if headerLen > uint64(size-8) {
		// Only a header length that cannot be right makes us guess the format:
		// a real header of 640 bytes starts with 0x80 0x02, as a pickle does.
		if what := foreignFormat(lenBuf[:]); what != "" {
			return nil, fmt.Errorf("not a safetensors file: it is %s", what)
		}
		return nil, fmt.Errorf("not a safetensors file: header length %d is longer than the %d bytes that follow it", headerLen, size-8)
	}
	if headerLen > maxModelHeaderBytes {
		return nil, fmt.Errorf("safetensors header of %d bytes is larger than the %d allowed", headerLen, maxModelHeaderBytes)
	}
	if headerLen < 2 {
		return nil, fmt.Errorf("not a safetensors file: header length %d is too short for a JSON object", headerLen)
	}
	buf := make([]byte, size)
	if n, err := r.ReadAt(buf, 0); n != len(buf) {
		return nil, fmt.Errorf("read %d of %d bytes: %w", n, size, err)
	}
	if buf[8] != '{' {
		return nil, fmt.Errorf("not a safetensors file: header does not start with a JSON object")
	}
	n, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	data := buf[8+n:]
	infos := md.Tensors()
	f := &stFile{metadata: md.Metadata(), byName: make(map[string]int, len(infos))}
	for name, info := range infos {
		// ReadMetadata checks that the offsets tile the data, but its sum can
		// wrap around uint64; check the bounds before slicing.
		if info.DataOffsets[0] > info.DataOffsets[1] || info.DataOffsets[1] > uint64(len(data)) {
			return nil, fmt.Errorf("tensor %q: data offsets %v outside the %d data bytes", name, info.DataOffsets, len(data))
		}
		f.tensors = append(f.tensors, stTensor{
			name: name, dtype: info.DType, shape: info.Shape,
			data: data[info.DataOffsets[0]:info.DataOffsets[1]:info.DataOffsets[1]],
		})
	}
	slices.SortFunc(f.tensors, func(a, b stTensor) int {
		if c := cmp.Compare(infos[a.name].DataOffsets[0], infos[b.name].DataOffsets[0]); c != 0 {
			return c
		}
		return cmp.Compare(a.name, b.name)
	})
	for i, t := range f.tensors {
		f.byName[t.name] = i
	}
	return f, nil
}

// modelFromSafetensors checks the description and every tensor against it,
// then builds the network.
func modelFromSafetensors(st *stFile) (*model.Network, ModelMeta, error) {
	var meta ModelMeta
	doc, ok := st.metadata[ModelMetadataKey]
	if !ok {
		return nil, meta, fmt.Errorf("not a spikebridge model: __metadata__ has no %q entry (a foreign safetensors file: `spikebridge inspect` lists its tensors)", ModelMetadataKey)
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
	switch meta.Kind {
	case ModelKindANN:
	case ModelKindSNN:
		return nil, meta, fmt.Errorf("model kind %q: spiking model files are not supported by this version", meta.Kind)
	default:
		return nil, meta, fmt.Errorf("unknown model kind %q (want %q)", meta.Kind, ModelKindANN)
	}
	if len(meta.Layers) == 0 {
		return nil, meta, errors.New("metadata lists no layers")
	}

	used := make(map[string]string) // tensor name -> layer that uses it
	layers := make([]model.Layer, 0, len(meta.Layers))
	for i, lm := range meta.Layers {
		l, err := modelLayerFromMeta(st, used, i, lm, meta.Kind)
		if err != nil {
			return nil, meta, err
		}
		layers = append(layers, l)
	}
	for _, t := range st.tensors {
		if _, ok := used[t.name]; !ok {
			name := t.name
			return nil, meta, fmt.Errorf("tensor %q: not used by any layer in the metadata", name)
		}
	}
	net, err := model.New(layers)
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
		if side.spec.Names != nil && len(side.spec.Names) != side.spec.Size {
			return nil, meta, fmt.Errorf("metadata %s names %d values, want %d", side.what, len(side.spec.Names), side.spec.Size)
		}
	}
	return net, meta, nil
}

// modelLayerFromMeta reads layer i of an ANN model file (of kind) with its
// tensors, recording them in used.
func modelLayerFromMeta(st *stFile, used map[string]string, i int, lm LayerMeta, kind string) (model.Layer, error) {
	where := fmt.Sprintf("layer %q", lm.Name)
	if lm.Name == "" {
		where = fmt.Sprintf("layer %d", i)
	}
	if lm.In <= 0 || lm.Out <= 0 {
		return model.Layer{}, fmt.Errorf("%s: sizes must be positive, got in=%d out=%d", where, lm.In, lm.Out)
	}
	if lm.Neuron != nil {
		return model.Layer{}, fmt.Errorf("%s: neuron parameters in an %q model", where, kind)
	}
	l := model.Layer{Name: lm.Name, Kind: model.Kind(lm.Kind), In: lm.In, Out: lm.Out}
	switch l.Kind {
	case model.Dense:
		if lm.Weights == "" {
			return model.Layer{}, fmt.Errorf("%s: dense layer names no weights tensor", where)
		}
		var err error
		if l.Weights, err = float32Tensor(st, used, where, lm.Weights, lm.Out, lm.In); err != nil {
			return model.Layer{}, err
		}
		if lm.Bias != "" {
			if l.Bias, err = float32Tensor(st, used, where, lm.Bias, lm.Out); err != nil {
				return model.Layer{}, err
			}
		}
	case model.ReLU, model.Identity, model.Tanh, model.Sigmoid, model.LeakyReLU, model.ELU:
		if lm.Weights != "" || lm.Bias != "" {
			return model.Layer{}, fmt.Errorf("%s: %s layer names tensors, but activations have no parameters", where, lm.Kind)
		}
		if lm.Alpha != 0 && l.Kind != model.LeakyReLU && l.Kind != model.ELU {
			return model.Layer{}, fmt.Errorf("%s: %s layer with alpha %v; only leaky_relu and elu have one", where, lm.Kind, lm.Alpha)
		}
		alpha, err := finiteSetting(where+": alpha", lm.Alpha)
		if err != nil {
			return model.Layer{}, err
		}
		l.Alpha = alpha
	default:
		return model.Layer{}, fmt.Errorf("%s: unknown layer kind %q (want dense, relu, identity, tanh, sigmoid, leaky_relu or elu)", where, lm.Kind)
	}
	return l, nil
}

// float32Tensor returns the named tensor after checking it is present, F32,
// of the wanted shape, not used by another layer, and finite.
func float32Tensor(st *stFile, used map[string]string, where, name string, shape ...int) ([]float32, error) {
	ti, ok := st.byName[name]
	if !ok {
		return nil, fmt.Errorf("%s: tensor %q: missing from the file", where, name)
	}
	if other, dup := used[name]; dup {
		return nil, fmt.Errorf("%s: tensor %q: already used by %s", where, name, other)
	}
	used[name] = where
	tv := st.tensors[ti]
	if tv.dtype != safetensors.F32 {
		return nil, fmt.Errorf("%s: tensor %q: dtype %s, want F32", where, name, tv.dtype)
	}
	got := tv.shape
	if len(got) != len(shape) || !slices.EqualFunc(got, shape, func(g uint64, w int) bool { return g == uint64(w) }) {
		return nil, fmt.Errorf("%s: tensor %q: shape %v, want %v", where, name, got, shape)
	}
	data := tv.data
	values := make([]float32, len(data)/4)
	for i := range values {
		v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: tensor %q: value %s is %v, want a finite number", where, name, indexString(i, shape), v)
		}
		values[i] = v
	}
	return values, nil
}

// indexString formats flat index i of a row-major array as "[r, c]".
func indexString(i int, shape []int) string {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	s := "["
	for d, v := range idx {
		if d > 0 {
			s += ", "
		}
		s += fmt.Sprint(v)
	}
	return s + "]"
}

// foreignFormat names the format of a file that starts with head when it
// is one spikebridge knows but not safetensors ("" otherwise), so a wrong
// file gets a message that says what it is instead of a nonsense header
// length.
func foreignFormat(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "a zip archive (a PyTorch .pt file or a Stable-Baselines3 .zip, which `import pytorch` turns into a model file, or an .npz data set)"
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return "a pickle (a PyTorch .pt file in the legacy format)"
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return "a numpy .npy array"
	case bytes.HasPrefix(head, []byte("\x89HDF")):
		return "an HDF5 file"
	}
	return ""
}
