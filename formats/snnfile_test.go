package formats

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/snn"
)

// testSNN is a 3-4-3-2 network that uses every stored parameter: per-neuron
// thresholds and initial membranes, a LIF layer with reset to zero, rate
// encoding and next-step propagation.
func testSNN(t testing.TB, readout snn.Readout) *snn.Network {
	t.Helper()
	w := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = scale * float32((i*7)%5-2)
		}
		return v
	}
	l1 := snn.NewIFLayer("fc1", 3, 4, w(12, 0.3), []float32{0.1, 0, -0.1, 0.2})
	l1.Thresholds = []float32{1, 0.5, 2, 1.5}
	l1.InitialMembranes = []float32{0.5, 0, 0.25, 1}
	l2 := snn.NewIFLayer("fc2", 4, 3, w(12, 0.4), nil)
	l2.Leak, l2.Reset, l2.Threshold, l2.InitialMembrane = 0.9, snn.ResetZero, 0.75, 0.25
	l3 := snn.NewIFLayer("out", 3, 2, w(6, 0.5), []float32{0.05, -0.05})
	s, err := snn.New(snn.Network{Layers: []snn.Layer{l1, l2, l3}, Timesteps: 24, Propagation: snn.NextStep,
		Readout: readout, OutputScale: 2.5,
		Input: snn.InputOf[float32]{Encoding: snn.Rate, Gain: 1.5, Threshold: 1, InitialMembrane: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSNNFileRoundTrip(t *testing.T) {
	for _, readout := range []snn.Readout{snn.Membrane, snn.Spikes} {
		t.Run(string(readout), func(t *testing.T) {
			s := testSNN(t, readout)
			meta := SNNMeta{Input: IOSpec{Meaning: "observation"}, Output: IOSpec{Meaning: "q-values"},
				Provenance: Provenance{Source: "policy.pt", Tool: "test", Settings: map[string]string{"method": "baseline", "percentile": "99.9"}}}
			path := filepath.Join(t.TempDir(), "snn.safetensors")
			if err := SaveSNN(path, s, meta); err != nil {
				t.Fatal(err)
			}
			got, gotMeta, err := LoadSNN(path)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]snn.Layer(nil), s.Layers...)
			if readout == snn.Membrane {
				// An integrator has no neuron parameters; the file keeps none.
				last := &want[len(want)-1]
				last.Reset, last.InitialMembrane = got.Layers[len(want)-1].Reset, got.Layers[len(want)-1].InitialMembrane
			}
			if !reflect.DeepEqual(got.Layers, want) || got.Input != s.Input || got.Timesteps != s.Timesteps ||
				got.Propagation != s.Propagation || got.Readout != s.Readout || got.OutputScale != s.OutputScale {
				t.Fatalf("loaded network differs:\n%+v\nwant\n%+v", got, s)
			}
			if gotMeta.Kind != ModelKindSNN || gotMeta.Provenance.Settings["percentile"] != "99.9" || gotMeta.Network.Timesteps != 24 {
				t.Errorf("metadata %+v", gotMeta)
			}
			// Same outputs for the same inputs.
			x := []float32{0.3, -0.7, 0.9}
			a, b := make([]float32, 2), make([]float32, 2)
			da, err := s.Run(a, x, s.NewState(1), 0)
			if err != nil {
				t.Fatal(err)
			}
			db, err := got.Run(b, x, got.NewState(1), 0)
			if err != nil {
				t.Fatal(err)
			}
			if da != db || a[0] != b[0] || a[1] != b[1] {
				t.Errorf("outputs %v (%d) after loading, %v (%d) before", b, db, a, da)
			}
			// Deterministic bytes.
			one, err := EncodeSNN(s, meta)
			if err != nil {
				t.Fatal(err)
			}
			two, err := EncodeSNN(got, meta)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(one, two) {
				t.Error("re-encoding a loaded network changed the bytes")
			}
			if kind, err := ModelKind(path); err != nil || kind != ModelKindSNN {
				t.Errorf("ModelKind = %q, %v", kind, err)
			}
			if _, _, err := LoadModel(path); err == nil {
				t.Error("LoadModel accepted a spiking model file")
			}
		})
	}
}

// rewriteMeta re-encodes data with its metadata changed by edit.
func rewriteMeta(t *testing.T, data []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	st, err := readSafetensors(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(st.metadata[ModelMetadataKey]), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	doc, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	headerLen := binary.LittleEndian.Uint64(data[:8])
	var header map[string]any
	if err := json.Unmarshal(data[8:8+headerLen], &header); err != nil {
		t.Fatal(err)
	}
	header["__metadata__"] = map[string]string{ModelMetadataKey: string(doc)}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, data[8+headerLen:]...)
}

func TestSNNFileBadInput(t *testing.T) {
	data, err := EncodeSNN(testSNN(t, snn.Membrane), SNNMeta{})
	if err != nil {
		t.Fatal(err)
	}
	layer := func(m map[string]any, i int) map[string]any { return m["layers"].([]any)[i].(map[string]any) }
	neuron := func(m map[string]any, i int) map[string]any { return layer(m, i)["neuron"].(map[string]any) }
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"ann kind", func(m map[string]any) { m["kind"] = "ann" }, `model kind "ann", want "snn"`},
		{"future version", func(m map[string]any) { m["version"] = 99 }, "version 99 is newer"},
		{"no layers", func(m map[string]any) { m["layers"] = []any{} }, "no layers"},
		{"unknown reset", func(m map[string]any) { neuron(m, 1)["reset"] = "bounce" }, `layer 1 ("fc2"): unknown reset`},
		{"if with leak", func(m map[string]any) { neuron(m, 1)["model"] = "if" }, `layer "fc2": neuron model "if" with leak 0.9`},
		{"unknown neuron", func(m map[string]any) { neuron(m, 0)["model"] = "izhikevich" }, `neuron model "izhikevich"`},
		{"zero threshold", func(m map[string]any) { neuron(m, 1)["threshold"] = 0 }, `layer 1 ("fc2")`},
		{"no neuron", func(m map[string]any) { delete(layer(m, 0), "neuron") }, `layer "fc1": spiking layer without neuron parameters`},
		{"integrator in the middle", func(m map[string]any) { layer(m, 1)["kind"] = "integrator" }, `layer "fc2": an integrator must be the last layer`},
		{"spiking output with membrane readout", func(m map[string]any) { layer(m, 2)["kind"] = "spiking" }, `must be an "integrator"`},
		{"unknown kind", func(m map[string]any) { layer(m, 0)["kind"] = "conv2d" }, `layer "fc1": layer kind "conv2d"`},
		{"missing tensor", func(m map[string]any) { layer(m, 0)["weights"] = "nope" }, `layer "fc1": tensor "nope": missing`},
		{"wrong shape", func(m map[string]any) { layer(m, 0)["in"] = 4 }, `tensor "fc1.weight": shape [4 3], want [4 4]`},
		{"unused tensor", func(m map[string]any) { delete(layer(m, 2), "bias") }, `tensor "out.bias": not used`},
		{"bad propagation", func(m map[string]any) { m["network"].(map[string]any)["propagation"] = "sideways" }, `unknown propagation "sideways"`},
		{"zero gain", func(m map[string]any) { m["network"].(map[string]any)["gain"] = 0 }, "gain is 0"},
		{"input size", func(m map[string]any) { m["input"].(map[string]any)["size"] = 5 }, "input size 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := rewriteMeta(t, data, c.edit)
			_, _, err := ReadSNN(bytes.NewReader(bad), int64(len(bad)), "bad.safetensors")
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.safetensors") {
				t.Fatalf("error %v, want one naming the file and containing %q", err, c.want)
			}
		})
	}
	if _, _, err := ReadSNN(bytes.NewReader(data[:20]), 20, "short.safetensors"); err == nil {
		t.Error("a truncated file was accepted")
	}
}

func FuzzReadSNN(f *testing.F) {
	for _, readout := range []snn.Readout{snn.Membrane, snn.Spikes} {
		data, err := EncodeSNN(testSNN(f, readout), SNNMeta{})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// A DSQN-style network: strict thresholds, next-step, membrane readout.
	strict, err := snn.New(snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}, Timesteps: 18,
		Propagation: snn.NextStep, Readout: snn.Membrane, OutputScale: 18, Layers: []snn.Layer{
			{Name: "fc1", In: 2, Out: 3, Weights: []float32{1, 0.5, -1, 0.25, 2, 1}, Bias: []float32{0.5, 0, 1},
				Threshold: 1, Leak: 1, Reset: snn.ResetSubtract, StrictThreshold: true},
			{Name: "fc2", In: 3, Out: 2, Weights: []float32{1, -1, 0.5, 0.5, 2, -2}}}})
	if err != nil {
		f.Fatal(err)
	}
	if data, err := EncodeSNN(strict, SNNMeta{}); err == nil {
		f.Add(data)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		net, _, err := ReadSNN(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		x := make([]float32, net.InputSize())
		if _, err := net.Run(nil, x, net.NewState(1), 2); err != nil {
			t.Fatalf("a loaded network failed to run: %v", err)
		}
	})
}
