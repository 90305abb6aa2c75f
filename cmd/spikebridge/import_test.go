package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// TestImportPyTorchPolicy imports the seed-1 DQN policy through the verb and
// checks the written model file against the .pt tensors, value by value.
func TestImportPyTorchPolicy(t *testing.T) {
	in := filepath.Join(filesFixturesRoot(t), "policies", "torch_dqn_cartpole_seed1.pt")
	out := filepath.Join(t.TempDir(), "model.safetensors")
	var stdout bytes.Buffer
	opts := &ImportPyTorchOptions{IO: &IOStreams{Out: &stdout, ErrOut: &bytes.Buffer{}}, JSON: true}
	opts.Input, opts.Output = in, out
	if err := runImportPyTorch(opts); err != nil {
		t.Fatal(err)
	}
	var res workflow.ImportResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, stdout.String())
	}
	if res.Arch != "4-64-64-2" || res.Layout != "out-in" || len(res.Layers) != 6 || len(res.Unmapped) != 0 || res.Format != "zip" {
		t.Errorf("result %+v", res)
	}
	net, meta, err := formats.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Provenance.Source != in || meta.Provenance.Tool != "spikebridge import pytorch" {
		t.Errorf("provenance %+v", meta.Provenance)
	}
	tf, err := formats.LoadTorch(in)
	if err != nil {
		t.Fatal(err)
	}
	dense := 0
	for _, l := range net.Layers() {
		if l.Kind != "dense" {
			continue
		}
		key := []string{"0", "2", "4"}[dense]
		dense++
		for what, got := range map[string][]float32{"weight": l.Weights, "bias": l.Bias} {
			want := tf.Tensor(key + "." + what).Float32()
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d values, want %d", l.Name, what, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %s[%d] = %v, want %v (from %s.%s)", l.Name, what, i, got[i], want[i], key, what)
				}
			}
		}
	}
	if dense != 3 {
		t.Errorf("%d dense layers, want 3", dense)
	}
}

func TestImportPyTorchText(t *testing.T) {
	in := filepath.Join(filesFixturesRoot(t), "pytorch", "spiking_qnet_state_dict.pt")
	out := filepath.Join(t.TempDir(), "snnq.safetensors")
	code, stdout, stderr := runCLI(t, "import", "pytorch", in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"as 4-32-32-2, weights out-in", "fc3    dense", "fc_out.weight (no bias)",
		"unmapped tensors (4):", "alpha: 0-d float32 tensor", "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

func TestImportPyTorchBadInputs(t *testing.T) {
	root := filesFixturesRoot(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pt")
	if err := os.WriteFile(garbage, []byte("not a torch file"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"torchscript", []string{filepath.Join(root, "pytorch", "cartpole_mlp_torchscript.pt")}, 1, "torch.save(model.state_dict(), path)"},
		{"conv", []string{filepath.Join(root, "pytorch", "convnet_state_dict.pt")}, 1, "not yet convertible: conv1.weight (4-d)"},
		{"garbage", []string{garbage}, 1, "garbage.pt: not a PyTorch file"},
		{"missing", []string{filepath.Join(dir, "nope.pt")}, 1, "nope.pt"},
		{"layout", []string{garbage, "--layout", "columns"}, 2, `--layout "columns"`},
		{"arch", []string{filepath.Join(root, "pytorch", "cartpole_mlp_state_dict.pt"), "--arch", "4-8-2"}, 1, "arch 4-8-2 does not match"},
		{"wrong_layout", []string{filepath.Join(root, "pytorch", "dsqn_bare_weight_list.pt"), "--layout", "out-in"}, 1, "do not chain as out-in"},
		{"no_args", nil, 2, "accepts 1 arg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".safetensors")
			code, _, stderr := runCLI(t, append(append([]string{"import", "pytorch"}, c.args...), "-o", out)...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed import left %s behind", out)
			}
		})
	}
}
