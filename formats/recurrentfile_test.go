package formats

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/snn"
)

func testRecurrent() (*snn.Recurrent, []float64) {
	net := &snn.Recurrent{
		Inputs: 3, Neurons: 2, Outputs: 2,
		InputWeights:     []float64{0.1, -0.2, 0.3, 0.4, 0.5, -0.6},
		RecurrentWeights: []float64{0, 0.7, -0.8, 0},
		OutputWeights:    []float64{1.5, -2.5, 0.25, 1e-300},
		Adaptation:       []float64{0, 0.0174},
		Leak:             math.Exp(-1.0 / 20), Threshold: 0.6, RefractorySteps: 5,
		AdaptationDecay: math.Exp(-1.0 / 2000), ReadoutLeak: math.Exp(-1.0 / 20), Output: snn.OutputSoftmax,
	}
	return net, []float64{1, -1, 0.5, math.Pi}
}

func TestRecurrentRoundTrip(t *testing.T) {
	net, fb := testRecurrent()
	path := filepath.Join(t.TempDir(), "eprop.safetensors")
	meta := RecurrentMeta{Input: IOSpec{Meaning: "spikes"}, Output: IOSpec{Meaning: "class-probabilities"},
		Provenance: Provenance{Tool: "test"}, Task: map[string]float64{"cues": 7}}
	if err := SaveRecurrent(path, net, fb, meta); err != nil {
		t.Fatal(err)
	}
	got, gotFB, gotMeta, err := LoadRecurrent(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.InputWeights, net.InputWeights) || !slices.Equal(got.RecurrentWeights, net.RecurrentWeights) ||
		!slices.Equal(got.OutputWeights, net.OutputWeights) || !slices.Equal(got.Adaptation, net.Adaptation) || !slices.Equal(gotFB, fb) {
		t.Fatal("tensors differ after a round trip")
	}
	if got.Leak != net.Leak || got.Threshold != net.Threshold || got.RefractorySteps != 5 || got.AdaptationDecay != net.AdaptationDecay ||
		got.ReadoutLeak != net.ReadoutLeak || got.Output != net.Output {
		t.Fatalf("parameters differ: %+v", got)
	}
	if gotMeta.Kind != ModelKindRecurrent || gotMeta.Task["cues"] != 7 || gotMeta.Input.Size != 3 {
		t.Fatalf("meta %+v", gotMeta)
	}
	again, err := EncodeRecurrent(net, fb, meta)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if !bytes.Equal(first, again) {
		t.Fatal("encoding is not deterministic")
	}
	if _, noFB, _, err := ReadRecurrent(bytes.NewReader(mustEncode(t, net, nil)), int64(len(mustEncode(t, net, nil))), "x"); err != nil || noFB != nil {
		t.Fatalf("file without feedback: %v, %v", noFB, err)
	}
}

func mustEncode(t *testing.T, net *snn.Recurrent, fb []float64) []byte {
	t.Helper()
	b, err := EncodeRecurrent(net, fb, RecurrentMeta{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecurrentBadFiles(t *testing.T) {
	net, fb := testRecurrent()
	good := mustEncode(t, net, fb)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-5], ""},
		{"NaN weight", bytes.Replace(good, f64bytes(0.7), f64bytes(math.NaN()), 1), "recurrent weights: element (0, 1) is NaN"},
		{"self-connection", bytes.Replace(good, slices.Concat(f64bytes(0.7), f64bytes(-0.8), f64bytes(0)),
			slices.Concat(f64bytes(0.7), f64bytes(-0.8), f64bytes(0.9)), 1), "diagonal element (1, 1) is 0.9"},
		{"NaN feedback", bytes.Replace(good, f64bytes(math.Pi), f64bytes(math.Inf(1)), 1), `tensor "feedback": element [1, 1] is +Inf`},
		{"kind", bytes.Replace(good, []byte(`recurrent-snn`), []byte(`recurrent-ann`), 1), `model kind "recurrent-ann"`},
		{"neurons", bytes.Replace(good, []byte(`neurons\":2`), []byte(`neurons\":3`), 1), `tensor "input_weights" has shape [2 3]`},
		{"zero neurons", bytes.Replace(good, []byte(`neurons\":2`), []byte(`neurons\":0`), 1), "0 neurons"},
	} {
		_, _, _, err := ReadRecurrent(bytes.NewReader(c.data), int64(len(c.data)), "bad.safetensors")
		if err == nil || !strings.Contains(err.Error(), "bad.safetensors") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", c.name, err, c.want)
		}
	}
}

func f64bytes(v float64) []byte {
	b := make([]byte, 8)
	bits := math.Float64bits(v)
	for i := range b {
		b[i] = byte(bits >> (8 * i))
	}
	return b
}

func FuzzReadRecurrent(f *testing.F) {
	net, fb := testRecurrent()
	good, err := EncodeRecurrent(net, fb, RecurrentMeta{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:40])
	f.Fuzz(func(t *testing.T, data []byte) {
		n, _, _, err := ReadRecurrent(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err == nil {
			if verr := n.Validate(); verr != nil {
				t.Fatalf("accepted an invalid network: %v", verr)
			}
		}
	})
}
