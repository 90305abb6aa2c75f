package emulator

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

func randomMLP(t *testing.T, rng *rand.Rand, sizes []int) *model.Network {
	return testfixtures.RandomMLP(t, rng, sizes, testfixtures.MLPInit{BiasMean: 0.5, BiasStd: 0.5})
}

func forwardDoc() Doc {
	return Doc{Kind: KindRate, Source: "vdp.npz", Config: TrainConfig{Hidden: []int{8}, Epochs: 3, Batch: 4, LR: 1e-3, Seed: 2},
		Task: probe.Task{Kind: probe.ForwardTask, Window: 10, InputSize: 1, TargetSize: 2, Dt: 0.05,
			Norm: probe.Norm{InputMean: []float64{0}, InputStd: []float64{1}, TargetMean: []float64{0, 0}, TargetStd: []float64{1, 2}}},
		Windows: probe.WindowOptions{Length: 10, ValFraction: 0.25, Seed: 2}}
}

// A rate emulator survives Save and Load (weights and description), and
// its predictor is the network's forward pass, or, trained with clip-floor
// activations, the clipped network.
func TestRateEmulatorRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := randomMLP(t, rng, []int{3, 8, 2})
	for _, levels := range []int{0, 4} {
		doc := forwardDoc()
		doc.Config.ClipFloor = levels
		path := filepath.Join(t.TempDir(), "rate.safetensors")
		if err := Save(path, &Model{Doc: doc, Rate: net}); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		doc.FormatVersion = 1
		if !reflect.DeepEqual(m.Doc, doc) || m.Spiking != nil || m.SpikingForward() {
			t.Fatalf("levels %d: loaded %+v, want %+v", levels, m.Doc, doc)
		}
		want := net.Forward
		ws := net.NewWorkspace(1)
		clipped := model.ClipFloorPredictor(net, 0)
		predict := m.Predictor()
		got, exp := make([]float32, 2), make([]float32, 2)
		for k := 0; k < 20; k++ {
			x := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
			if err := predict(got, x); err != nil {
				t.Fatal(err)
			}
			if levels > 0 {
				clipped(exp, x)
			} else {
				want(exp, x, ws)
			}
			if got[0] != exp[0] || got[1] != exp[1] {
				t.Fatalf("levels %d, sample %d: predictor %v, want %v", levels, k, got, exp)
			}
		}
	}
}

// A recurrent spiking emulator survives Save and Load bit for bit.
func TestSpikingEmulatorRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	e := &Spiking{Window: 5, StepInputs: 1, Context: 2, Hidden: 6, Outputs: 2, Leak: 0.9, TraceDecay: 0.8, Threshold: 1}
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	e.WIn, e.B, e.WRec, e.WOut, e.BOut = fill(6*3), fill(6), fill(36), fill(12), fill(2)
	doc := forwardDoc()
	doc.Kind, doc.Task.Kind, doc.Task.Window = KindSpiking, probe.SequenceTask, 5
	doc.StepInputs, doc.Context, doc.Hidden, doc.Outputs, doc.Leak, doc.TraceDecay, doc.Threshold = 1, 2, 6, 2, 0.9, 0.8, 1
	path := filepath.Join(t.TempDir(), "spiking.safetensors")
	if err := Save(path, &Model{Doc: doc, Spiking: e}); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Spiking, e) || m.Rate != nil {
		t.Fatalf("loaded %+v, want %+v", m.Spiking, e)
	}
	x := fill(5*1 + 2)
	got, want := make([]float32, 10), make([]float32, 10)
	if err := m.Predictor()(got, x); err != nil {
		t.Fatal(err)
	}
	e.Forward(want, x, e.NewState())
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("output %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// Files that are not emulators, or hold a broken description, are refused
// naming the file.
func TestLoadRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	net := randomMLP(t, rand.New(rand.NewPCG(5, 6)), []int{2, 3, 1})
	plain := filepath.Join(dir, "plain.safetensors")
	if err := formats.SaveModel(plain, net, formats.ModelMeta{}); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.safetensors")
	doc := forwardDoc()
	doc.Task.Window = 1
	if err := Save(broken, &Model{Doc: doc, Rate: net}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{plain: "not an emulator", broken: "is not valid",
		filepath.Join(dir, "absent.safetensors"): "no such file"} {
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Load(%s): %v, want an error naming the file and %q", path, err, want)
		}
	}
}
