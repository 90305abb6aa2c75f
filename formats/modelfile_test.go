package formats

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
)

var updateModelGolden = flag.Bool("update-model-golden", false, "rewrite formats/testdata/tiny_mlp.safetensors")

// randomMLP builds an MLP with seeded weights that include the values a
// careless encoder gets wrong: -0, a subnormal, the largest float32.
func randomMLP(t testing.TB, seed uint64, sizes ...int) *model.Network {
	t.Helper()
	weights, biases := testfixtures.RandomMLPWeights(rand.New(rand.NewPCG(seed, 0)), sizes, testfixtures.MLPInit{BiasStd: 1})
	weights[0][0] = float32(math.Copysign(0, -1))
	weights[0][1] = math.SmallestNonzeroFloat32
	biases[0][0] = math.MaxFloat32
	net, err := model.MLP(sizes, weights, biases)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func TestModelRoundTripExact(t *testing.T) {
	net := randomMLP(t, 1, 4, 64, 64, 2)
	meta := CartPoleQMeta()
	meta.Provenance = Provenance{Source: "policy.pt", Tool: "spikebridge test", Command: "spikebridge import pytorch policy.pt",
		Settings: map[string]string{"layout": "out-in", "arch": "4-64-64-2:relu"}}
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	if err := SaveModel(first, net, meta); err != nil {
		t.Fatal(err)
	}
	if err := SaveModel(second, net, meta); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Fatal("the same network and metadata gave different file bytes")
	}

	got, gotMeta, err := LoadModel(first)
	if err != nil {
		t.Fatal(err)
	}
	want := net.Layers()
	if len(got.Layers()) != len(want) {
		t.Fatalf("loaded %d layers, want %d", len(got.Layers()), len(want))
	}
	for i, l := range got.Layers() {
		w := want[i]
		if l.Name != w.Name || l.Kind != w.Kind || l.In != w.In || l.Out != w.Out {
			t.Fatalf("layer %d: got %s %s %dx%d, want %s %s %dx%d", i, l.Name, l.Kind, l.In, l.Out, w.Name, w.Kind, w.In, w.Out)
		}
		assertBitIdentical(t, l.Name+".weight", l.Weights, w.Weights)
		assertBitIdentical(t, l.Name+".bias", l.Bias, w.Bias)
	}
	if gotMeta.Version != ModelFormatVersion || gotMeta.Kind != ModelKindANN {
		t.Errorf("version %d kind %q", gotMeta.Version, gotMeta.Kind)
	}
	if strings.Join(gotMeta.Input.Names, ",") != "x,x_dot,theta,theta_dot" || gotMeta.Output.Meaning != "q-values" {
		t.Errorf("input/output lost: %+v %+v", gotMeta.Input, gotMeta.Output)
	}
	if gotMeta.Provenance.Settings["arch"] != "4-64-64-2:relu" || gotMeta.Provenance.Source != "policy.pt" {
		t.Errorf("provenance lost: %+v", gotMeta.Provenance)
	}
	if len(gotMeta.Layers) != len(want) || gotMeta.Layers[0].Weights != "fc1.weight" || gotMeta.Layers[0].Bias != "fc1.bias" {
		t.Errorf("layer metadata: %+v", gotMeta.Layers)
	}

	// Saving what was loaded gives the same bytes again.
	third := filepath.Join(dir, "c.safetensors")
	if err := SaveModel(third, got, gotMeta); err != nil {
		t.Fatal(err)
	}
	c, _ := os.ReadFile(third)
	if !bytes.Equal(a, c) {
		t.Fatal("load then save changed the file bytes")
	}
}

func assertBitIdentical(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if (got == nil) != (want == nil) || len(got) != len(want) {
		t.Fatalf("%s: got %d values (nil %v), want %d (nil %v)", what, len(got), got == nil, len(want), want == nil)
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d]: got bits %08x, want %08x", what, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
		}
	}
}

// TestModelGolden pins the file layout: a fixed tiny network must encode to
// the committed bytes (regenerate with -update-model-golden after a
// deliberate format change).
func TestModelGolden(t *testing.T) {
	net := tinyMLP(t)
	meta := ModelMeta{Input: IOSpec{Meaning: "observation"}, Output: IOSpec{Meaning: "q-values"},
		Provenance: Provenance{Tool: "spikebridge test"}}
	got, err := EncodeModel(net, meta)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "tiny_mlp.safetensors")
	if *updateModelGolden {
		if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(got); return err }); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed:\n got %q\nwant %q", got, want)
	}
}

// tinyMLP is a 3-4-2 network with the same closed-form weights as
// testdata/make_python_model.py, plus a fc2 bias.
func tinyMLP(t testing.TB) *model.Network {
	t.Helper()
	w1 := make([]float32, 12)
	for o := 0; o < 4; o++ {
		for i := 0; i < 3; i++ {
			w1[o*3+i] = 0.25*float32(o) - 0.125*float32(i)
		}
	}
	b1 := []float32{0, -0.5, -1, -1.5}
	w2 := make([]float32, 8)
	for o := 0; o < 2; o++ {
		for i := 0; i < 4; i++ {
			w2[o*4+i] = 1 - 0.5*float32(o+i)
		}
	}
	net, err := model.MLP([]int{3, 4, 2}, [][]float32{w1, w2}, [][]float32{b1, {0.5, -0.25}})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestReadPythonWrittenModel reads a file written by numpy alone and checks
// a forward pass against the closed-form value the script printed.
func TestReadPythonWrittenModel(t *testing.T) {
	net, meta, err := LoadModel(filepath.Join("testdata", "python_mlp.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if net.String() != "3-4-2" || meta.Provenance.Tool != "make_python_model.py" {
		t.Fatalf("got %s, provenance %+v", net, meta.Provenance)
	}
	if b := net.Layers()[2].Bias; b != nil {
		t.Fatalf("fc2 has bias %v, want none", b)
	}
	q := make([]float32, 2)
	net.Forward(q, []float32{1, -2, 0.5}, net.NewWorkspace(1))
	if q[0] != 0.125 || q[1] != 0.0625 {
		t.Fatalf("q = %v, want [0.125 0.0625] (make_python_model.py)", q)
	}
}

// rawTensor is a tensor for craftSafetensors: dtype as safetensors spells it.
type rawTensor struct {
	name   string
	dtype  string
	shape  []int
	values []float32 // encoded as F32, or as F64 when dtype is "F64"
}

// craftSafetensors builds a safetensors file by hand (not through the
// library), so tests can write files the library would refuse to write.
func craftSafetensors(t testing.TB, meta any, tensors []rawTensor) []byte {
	t.Helper()
	header := map[string]any{}
	if meta != nil {
		doc, ok := meta.(string)
		if !ok {
			b, err := json.Marshal(meta)
			if err != nil {
				t.Fatal(err)
			}
			doc = string(b)
		}
		header["__metadata__"] = map[string]string{ModelMetadataKey: doc}
	}
	var data []byte
	for _, tt := range tensors {
		start := len(data)
		for _, v := range tt.values {
			if tt.dtype == "F64" {
				data = binary.LittleEndian.AppendUint64(data, math.Float64bits(float64(v)))
			} else {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
		header[tt.name] = map[string]any{"dtype": tt.dtype, "shape": tt.shape, "data_offsets": []int{start, len(data)}}
	}
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hb)))
	return append(append(out, hb...), data...)
}

// tinyModelParts returns the metadata and tensors of a valid 3-4-2 model
// file for tests to break one thing at a time.
func tinyModelParts() (ModelMeta, []rawTensor) {
	meta := ModelMeta{
		Version: 1, Kind: "ann",
		Input:  IOSpec{Size: 3},
		Output: IOSpec{Size: 2},
		Layers: []LayerMeta{
			{Name: "fc1", Kind: "dense", In: 3, Out: 4, Weights: "fc1.weight", Bias: "fc1.bias"},
			{Name: "relu1", Kind: "relu", In: 4, Out: 4},
			{Name: "fc2", Kind: "dense", In: 4, Out: 2, Weights: "fc2.weight", Bias: "fc2.bias"},
			{Name: "out", Kind: "identity", In: 2, Out: 2},
		},
	}
	seq := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i) / 8
		}
		return v
	}
	tensors := []rawTensor{
		{"fc1.weight", "F32", []int{4, 3}, seq(12)},
		{"fc1.bias", "F32", []int{4}, seq(4)},
		{"fc2.weight", "F32", []int{2, 4}, seq(8)},
		{"fc2.bias", "F32", []int{2}, seq(2)},
	}
	return meta, tensors
}

func TestReadModelCraftedValid(t *testing.T) {
	meta, tensors := tinyModelParts()
	data := craftSafetensors(t, meta, tensors)
	net, _, err := ReadModel(bytes.NewReader(data), int64(len(data)), "ok.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if net.String() != "3-4-2" {
		t.Fatalf("got %s", net)
	}
	if w := net.Layers()[2].Weights; w[7] != 7.0/8 {
		t.Fatalf("fc2.weight[1, 3] = %v, want 0.875", w[7])
	}
}

// badModelCases lists broken model files and the text each error must hold
// (besides the file name, which every error must start with).
func badModelCases(t testing.TB) []struct {
	name string
	data []byte
	want string
} {
	edit := func(change func(m *ModelMeta, ts []rawTensor) []rawTensor) []byte {
		m, ts := tinyModelParts()
		ts = change(&m, ts)
		return craftSafetensors(t, m, ts)
	}
	valid := edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { return ts })
	headerLen := binary.LittleEndian.Uint64(valid)
	longHeader := append([]byte(nil), valid...)
	binary.LittleEndian.PutUint64(longHeader, uint64(len(valid)))

	return []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "need at least 8"},
		{"five bytes", []byte{1, 2, 3, 4, 5}, "need at least 8"},
		{"garbage", []byte("this is not a model file at all, just some text"), "header length"},
		{"header longer than file", longHeader, "is longer than the"},
		{"truncated data", valid[:len(valid)-5], "incomplete"},
		{"truncated header", valid[:8+headerLen/2], "is longer than the"},
		{"header not json", append(binary.LittleEndian.AppendUint64(nil, 4), []byte("{abc")...), "invalid header"},
		{"foreign file", craftSafetensors(t, nil, []rawTensor{{"w", "F32", []int{1}, []float32{1}}}), "not a spikebridge model"},
		{"metadata not json", craftSafetensors(t, "{not json", nil), `__metadata__ "spikebridge"`},
		{"newer version", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Version = 2; return ts }), "version 2 is newer"},
		{"snn kind", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Kind = "snn"; return ts }), `kind "snn": spiking model files are not supported`},
		{"unknown model kind", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Kind = "cnn"; return ts }), `unknown model kind "cnn"`},
		{"no layers", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers = nil; return nil }), "no layers"},
		{"unknown layer kind", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers[1].Kind = "conv2d"; return ts }),
			`layer "relu1": unknown layer kind "conv2d"`},
		{"missing tensor", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { return ts[:2] }),
			`layer "fc2": tensor "fc2.weight": missing`},
		{"shape mismatch", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor {
			ts[2].shape = []int{2, 3}
			ts[2].values = ts[2].values[:6]
			return ts
		}),
			`layer "fc2": tensor "fc2.weight": shape [2 3], want [2 4]`},
		{"transposed weights", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { ts[0].shape = []int{3, 4}; return ts }),
			`layer "fc1": tensor "fc1.weight": shape [3 4], want [4 3]`},
		{"wrong dtype", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { ts[1].dtype = "F64"; return ts }),
			`layer "fc1": tensor "fc1.bias": dtype F64, want F32`},
		{"NaN weight", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { ts[2].values[6] = float32(math.NaN()); return ts }),
			`layer "fc2": tensor "fc2.weight": value [1, 2] is NaN`},
		{"Inf bias", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { ts[1].values[3] = float32(math.Inf(1)); return ts }),
			`layer "fc1": tensor "fc1.bias": value [3] is +Inf`},
		{"extra tensor", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor {
			return append(ts, rawTensor{"fc3.weight", "F32", []int{1}, []float32{1}})
		}), `tensor "fc3.weight": not used by any layer`},
		{"tensor used twice", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor {
			m.Layers[2].Bias = "fc1.bias"
			m.Layers[2].Out, m.Layers[3].In, m.Layers[3].Out, m.Output.Size = 4, 4, 4, 4
			m.Layers[2].Weights = "fc2.weight"
			ts[2].shape, ts[2].values = []int{4, 4}, make([]float32, 16)
			return ts[:3]
		}), `layer "fc2": tensor "fc1.bias": already used by layer "fc1"`},
		{"layer sizes do not chain", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers[1].In, m.Layers[1].Out = 5, 5; return ts }),
			`input size 5 does not match the 4 outputs`},
		{"dense without weights", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers[0].Weights = ""; return ts[1:] }),
			`layer "fc1": dense layer names no weights tensor`},
		{"activation with tensor", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers[1].Bias = "fc1.bias"; return ts }),
			`layer "relu1": relu layer names tensors`},
		{"negative size", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Layers[1].In = -4; return ts }),
			`layer "relu1": sizes must be positive`},
		{"neuron in ann", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor {
			m.Layers[0].Neuron = &NeuronMeta{Model: "if", Threshold: 1}
			return ts
		}), `layer "fc1": neuron parameters in an "ann" model`},
		{"input size disagrees", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Input.Size = 4; return ts }),
			"metadata input size 4, but the layers give 3"},
		{"output names count", edit(func(m *ModelMeta, ts []rawTensor) []rawTensor { m.Output.Names = []string{"left"}; return ts }),
			"metadata output names 1 values, want 2"},
	}
}

func TestReadModelBadInputs(t *testing.T) {
	cases := badModelCases(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "bad-" + strings.ReplaceAll(tc.name, " ", "-") + ".safetensors"
			_, _, err := ReadModel(bytes.NewReader(tc.data), int64(len(tc.data)), name)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "formats: "+name+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q\nwant it to start with %q and contain %q", msg, "formats: "+name+": ", tc.want)
			}
		})
	}
	t.Logf("%d bad model files, each refused with the expected message", len(cases))
}

func TestLoadModelMissingFile(t *testing.T) {
	_, _, err := LoadModel(filepath.Join(t.TempDir(), "nope.safetensors"))
	if err == nil || !strings.Contains(err.Error(), "nope.safetensors") {
		t.Fatalf("got %v", err)
	}
}

func TestReadSafetensorsForeign(t *testing.T) {
	data := craftSafetensors(t, nil, []rawTensor{
		{"embed", "F64", []int{2, 2}, []float32{1, -2, 0.5, 3}},
		{"scale", "F32", []int{1}, []float32{-0.25}},
	})
	f, err := ReadSafetensors(bytes.NewReader(data), int64(len(data)), "foreign.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 2 || f.Tensors[0].Name != "embed" || f.Tensors[0].DType != "F64" || f.Tensors[1].Values[0] != -0.25 {
		t.Fatalf("got %+v", f.Tensors)
	}
	if got := f.Tensors[0].Values; len(got) != 4 || got[1] != -2 || got[3] != 3 {
		t.Fatalf("embed = %v", got)
	}
}

func TestHalfToFloat32(t *testing.T) {
	for _, tc := range []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08}, {0x03ff, 6.097555160522461e-05},
		{0x8000, float32(math.Copysign(0, -1))}, {0x7c00, float32(math.Inf(1))}, {0x3555, 0.333251953125},
	} {
		got := halfToFloat32(tc.bits)
		if math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("half %04x = %v, want %v", tc.bits, got, tc.want)
		}
	}
	if !math.IsNaN(float64(halfToFloat32(0x7e00))) {
		t.Error("half 7e00 is not NaN")
	}
}
