package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/workflow"
)

// TestImportFixturesThroughCLI imports every file of fixtures/imports with
// no flags, runs the written model file with predict and compares with
// PyTorch's `out`: within 1e-5 (Tanh and the dueling fold round differently
// from PyTorch's float32 kernels by about an ulp; see formats'
// TestImportFixturesMatchTorch) and the same actions on every state.
func TestImportFixturesThroughCLI(t *testing.T) {
	root := testfixtures.Dir(t, "imports")
	var files []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(path, ".pt") || strings.HasSuffix(path, ".zip")) {
			files = append(files, path)
		}
		return nil
	})
	if len(files) == 0 {
		t.Fatalf("no files under %s", root)
	}
	for _, path := range files {
		base := strings.TrimSuffix(path, filepath.Ext(path))
		t.Run(filepath.Base(base), func(t *testing.T) {
			dir := t.TempDir()
			model := filepath.Join(dir, "m.safetensors")
			code, stdout, stderr := runCLI(t, "import", "pytorch", path, "-o", model, "--json")
			if code != 0 {
				t.Fatalf("import: exit %d: %s", code, stderr)
			}
			var res workflow.ImportResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatal(err)
			}
			pred := filepath.Join(dir, "p.npz")
			if code, _, stderr := runCLI(t, "predict", "--model", model, "--input", base+"_expected.npz:states", "-o", pred); code != 0 {
				t.Fatalf("predict: exit %d: %s", code, stderr)
			}
			got, err := formats.ReadNPZ(pred)
			if err != nil {
				t.Fatal(err)
			}
			exp, err := formats.ReadNPZ(base + "_expected.npz")
			if err != nil {
				t.Fatal(err)
			}
			q, want := got["q"].Float32s(), exp["out"].Float32s()
			if len(q) != len(want) {
				t.Fatalf("%d outputs, want %d (imported %s)", len(q), len(want), res.Arch)
			}
			maxErr := 0.0
			for i := range q {
				maxErr = max(maxErr, math.Abs(float64(q[i])-float64(want[i])))
			}
			flips := 0
			for i, a := range got["actions"].Data {
				if a != exp["actions"].Data[i] {
					flips++
				}
			}
			t.Logf("%s as %s (%s): max |out - torch| %.3g, %d action flips", filepath.Base(path), res.Arch, res.Structure, maxErr, flips)
			if maxErr > 1e-5 || flips > 0 {
				t.Errorf("max |out - torch| %.3g (want <= 1e-5), %d action flips (want 0)", maxErr, flips)
			}
		})
	}
}

// TestImportRefusalsCLI: imports that would need a guess exit 1, name the
// sub-networks or tensors, say how to choose, and write nothing.
func TestImportRefusalsCLI(t *testing.T) {
	own := filepath.Join("..", "..", "formats", "testdata", "imports")
	sb3 := testfixtures.Dir(t, "imports", "sb3")
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"splice", []string{filepath.Join(own, "ac_splice.pt"), "--arch", "4-100-2"}, 1,
			[]string{"does not match", "actor (policy) 4-36-2 (pi.0, pi.2)", "value (critic) 4-100-1 (v.0, v.2)"}},
		{"heads", []string{filepath.Join(own, "two_heads.pt")}, 1, []string{"body.0", "out_a", "out_b", "--head"}},
		{"broken", []string{filepath.Join(own, "broken_chain.pt")}, 1, []string{"fc1 gives 64 outputs, fc2 takes 32 inputs"}},
		{"lstm", []string{filepath.Join(own, "lstm_policy.pt")}, 1, []string{"lstm.weight_ih_l0", "recurrent"}},
		{"silu", []string{filepath.Join(own, "whole_silu.pt")}, 1, []string{`module "1"`, "SiLU"}},
		{"width", []string{filepath.Join(sb3, "ppo_like.zip"), "--actions", "3"}, 1, []string{"2 outputs", "3 actions"}},
		{"headless", []string{filepath.Join(sb3, "dqn_like.zip"), "--prefix", "q_net.q_net.0"}, 1, []string{"64 outputs", "2 actions"}},
		{"critic_of_dueling", []string{testfixtures.Dir(t, "imports", "dueling_dqn.pt"), "--head", "critic"}, 1, []string{"value_head", "advantage_head"}},
		{"semantics", []string{filepath.Join(own, "two_heads.pt"), "--semantics", "snntorch"}, 2, []string{"--semantics"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "m.safetensors")
			code, _, stderr := runCLI(t, append([]string{"import", "pytorch", "-o", out}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused import wrote %s", out)
			}
		})
	}
	// What an explicit choice makes well defined is imported.
	out := filepath.Join(t.TempDir(), "m.safetensors")
	if code, _, stderr := runCLI(t, "import", "pytorch", filepath.Join(own, "whole_silu.pt"), "--arch", "4-8-2", "-o", out); code != 0 {
		t.Errorf("--arch on an unknown activation module: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := runCLI(t, "import", "pytorch", filepath.Join(own, "two_heads.pt"), "--head", "out_b", "-o", out); code != 0 || !strings.Contains(stdout, "4-40-1") {
		t.Errorf("--head out_b: exit %d: %s%s", code, stdout, stderr)
	}
}

// TestImportActivationFlag: a state_dict stores no activations; the import
// says ReLU was assumed (text and --json), and --activation names another.
func TestImportActivationFlag(t *testing.T) {
	in := testfixtures.Dir(t, "imports", "actor_critic_shared.pt")
	out := filepath.Join(t.TempDir(), "m.safetensors")
	for _, c := range []struct {
		flags   []string
		kind    string
		assumed bool
	}{{nil, "relu", true}, {[]string{"--activation", "tanh"}, "tanh", false}, {[]string{"--activation", "leaky_relu=0.2"}, "leaky_relu", false}} {
		code, stdout, stderr := runCLI(t, append([]string{"import", "pytorch", in, "-o", out, "--json"}, c.flags...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.flags, code, stderr)
		}
		var res workflow.ImportResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		if res.ActivationAssumed != c.assumed || len(res.Layers) < 2 || res.Layers[1].Kind != c.kind {
			t.Errorf("%v: activation_assumed %v, layer 2 %+v; want %v and %s", c.flags, res.ActivationAssumed, res.Layers[1], c.assumed, c.kind)
		}
	}
	net, _, err := formats.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if a := net.Layers()[1].Alpha; a != 0.2 {
		t.Errorf("leaky_relu slope %v in the model file, want 0.2", a)
	}
}

// TestConvertRefusesTanh: a Tanh network is not turned into IF neurons as if
// it were ReLU: the baseline conversion exits 1 naming the layer and the way
// (distillation); eval and predict run it as it is.
func TestConvertRefusesTanh(t *testing.T) {
	in := testfixtures.Dir(t, "imports", "whole_sequential_tanh.pt")
	states := testfixtures.Dir(t, "imports", "whole_sequential_tanh_expected.npz")
	dir := t.TempDir()
	ann := filepath.Join(dir, "tanh.safetensors")
	if code, _, stderr := runCLI(t, "import", "pytorch", in, "-o", ann); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "snn.safetensors")
	code, _, stderr := runCLI(t, "convert", "--model", ann, "--calib", states, "--method", "baseline", "-o", out)
	if code != 1 || !strings.Contains(stderr, `"tanh1", tanh`) || !strings.Contains(stderr, "distil") {
		t.Errorf("convert --method baseline of a tanh network: exit %d, %s; want exit 1 naming layer tanh1 and distillation", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused conversion wrote %s", out)
	}
	if code, stdout, stderr := runCLI(t, "eval", "--model", ann, "--episodes", "3", "--json"); code != 0 || !strings.Contains(stdout, `"returns"`) {
		t.Errorf("eval of a tanh network: exit %d: %s%s", code, stdout, stderr)
	}
}
