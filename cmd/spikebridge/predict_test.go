package main

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/workflow"
)

// filesFixturesRoot returns $SPIKEBRIDGE_FIXTURES or ../shared/fixtures
// relative to the directory holding go.mod.
func filesFixturesRoot(t testing.TB) string {
	return testfixtures.Dir(t)
}

// torchPolicyModel builds the seed-N fixture policy (nn.Sequential 4-64-64-2,
// keys 0.*, 2.*, 4.*) straight from its tensors and saves it as a model file,
// so these tests do not depend on the import verb's layer recognition.
func torchPolicyModel(t *testing.T, seed string) (modelPath, expectedPath string) {
	t.Helper()
	root := filesFixturesRoot(t)
	tf, err := formats.LoadTorch(filepath.Join(root, "policies", "torch_dqn_cartpole_seed"+seed+".pt"))
	if err != nil {
		t.Fatal(err)
	}
	var weights, biases [][]float32
	for _, key := range []string{"0", "2", "4"} {
		w, b := tf.Tensor(key+".weight"), tf.Tensor(key+".bias")
		if w == nil || b == nil {
			t.Fatalf("policy seed %s: no tensors %s.weight/%s.bias", seed, key, key)
		}
		weights, biases = append(weights, w.Float32()), append(biases, b.Float32())
	}
	net, err := model.MLP([]int{4, 64, 64, 2}, weights, biases)
	if err != nil {
		t.Fatal(err)
	}
	modelPath = filepath.Join(t.TempDir(), "policy"+seed+".safetensors")
	meta := formats.CartPoleQMeta()
	meta.Provenance.Source = "torch_dqn_cartpole_seed" + seed + ".pt"
	if err := formats.SaveModel(modelPath, net, meta); err != nil {
		t.Fatal(err)
	}
	return modelPath, filepath.Join(root, "policies", "torch_dqn_cartpole_seed"+seed+"_expected.npz")
}

// TestPredictMatchesTorch runs predict on the fixture's states and compares
// with the Q-values PyTorch computed.
func TestPredictMatchesTorch(t *testing.T) {
	for _, seed := range []string{"1", "2"} {
		modelPath, expected := torchPolicyModel(t, seed)
		out := filepath.Join(t.TempDir(), "q.npz")
		var stderr bytes.Buffer
		// A batch size that does not divide 2500 exercises the last chunk.
		opts := &PredictOptions{IO: &IOStreams{Out: &stderr, ErrOut: &stderr}, PredictOptions: workflow.PredictOptions{Model: modelPath, Input: expected, Output: out, BatchSize: 300}}
		if err := runPredict(opts); err != nil {
			t.Fatal(err)
		}
		want, err := formats.ReadNPZ(expected)
		if err != nil {
			t.Fatal(err)
		}
		got, err := formats.ReadNPZ(out)
		if err != nil {
			t.Fatal(err)
		}
		q, wantQ := got["q"], want["q"]
		if q == nil || q.DType != "<f4" || len(q.Shape) != 2 || q.Shape[0] != 2500 || q.Shape[1] != 2 {
			t.Fatalf("seed %s: q is %+v, want <f4 (2500, 2)", seed, q)
		}
		// model's forward pass follows PyTorch's CPU order (FMA over the inputs
		// in order, bias last), so the Q-values must be torch's, bit for bit;
		// the float64 figures show how far both are from exact arithmetic.
		exact := forward64(t, modelPath, want["states"].Data)
		worst, goErr, torchErr, flips := 0.0, 0.0, 0.0, 0
		for i := range wantQ.Data {
			worst = math.Max(worst, math.Abs(q.Data[i]-wantQ.Data[i]))
			goErr = math.Max(goErr, math.Abs(q.Data[i]-exact[i]))
			torchErr = math.Max(torchErr, math.Abs(wantQ.Data[i]-exact[i]))
		}
		for i, a := range got["actions"].Data {
			if a != want["actions"].Data[i] {
				flips++
				t.Logf("seed %s: state %d: action %v, torch %v (q %v vs %v)", seed, i, a, want["actions"].Data[i], q.Data[2*i:2*i+2], wantQ.Data[2*i:2*i+2])
			}
		}
		t.Logf("seed %s: over 2500 states max |q - q_torch| = %.3g; from float64: ours %.3g, torch's %.3g; %d action flips",
			seed, worst, goErr, torchErr, flips)
		if worst != 0 {
			t.Errorf("seed %s: max |q - q_torch| = %g, |q - q64| = %g (torch's %g)", seed, worst, goErr, torchErr)
		}
		if flips > 0 {
			t.Errorf("seed %s: %d actions differ from torch's", seed, flips)
		}
		if !strings.Contains(stderr.String(), "wrote q (2500 x 2)") {
			t.Errorf("message %q", stderr.String())
		}
	}
}

func TestPredictBadInputs(t *testing.T) {
	modelPath, expected := torchPolicyModel(t, "1")
	dir := t.TempDir()
	nanFile := filepath.Join(dir, "nan.npz")
	if err := formats.WriteNPZ(nanFile, []*formats.Array{formats.NewFloat64Array("states", []int{2, 4}, []float64{0, 0, 0, 0, 0, math.NaN(), 0, 0})}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npz")
	for _, tc := range []struct {
		name  string
		input string
		model string
		want  string
	}{
		{"width mismatch", expected + ":q", modelPath, `array "q" has 2 values per row (shape [2500 2]), but model ` + modelPath + " takes 4 inputs"},
		{"missing array", expected + ":obs", modelPath, `no array "obs" (it holds states, q, actions, init_states, returns)`},
		{"3-d array is not rows", filepath.Join(filesFixturesRoot(t), "snn", "brian2_ff_seed1.npz") + ":steps", modelPath, `array "steps": shape [], want 2 dimensions`},
		{"NaN input", nanFile, modelPath, `array "states": row 1, column 1 is NaN`},
		{"model is not a model", expected, expected, "not a safetensors file"},
	} {
		opts := &PredictOptions{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, PredictOptions: workflow.PredictOptions{Model: tc.model, Input: tc.input, Output: out, BatchSize: 64}}
		err := runPredict(opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("a failed predict left an output file")
	}
}

// forward64 runs the saved network in float64 on rows of 4 inputs: a plain
// reference for rounding, independent of model.ForwardBatch.
func forward64(t *testing.T, modelPath string, states []float64) []float64 {
	t.Helper()
	net, _, err := formats.LoadModel(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for r := 0; r < len(states)/net.InputSize(); r++ {
		h := states[r*net.InputSize() : (r+1)*net.InputSize()]
		for _, l := range net.Layers() {
			next := make([]float64, l.Out)
			switch l.Kind {
			case model.Dense:
				for o := range next {
					acc := float64(l.Bias[o])
					for i, x := range h {
						acc += float64(l.Weights[o*l.In+i]) * x
					}
					next[o] = acc
				}
			case model.ReLU:
				for i, x := range h {
					next[i] = math.Max(x, 0)
				}
			default:
				copy(next, h)
			}
			h = next
		}
		out = append(out, h...)
	}
	return out
}
