package workflow

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
)

// The imported model file computes PyTorch's Q-values (the fixture's
// expected outputs, from torch), and the result lists its layers.
func TestImportPyTorchMatchesTorch(t *testing.T) {
	out := filepath.Join(t.TempDir(), "model.safetensors")
	opts := DefaultImportPyTorchOptions()
	opts.Input, opts.Output = testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed1.pt"), out
	res, err := ImportPyTorch(opts)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := formats.LoadANN(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != formats.ModelKindANN || res.Arch != ann.String() || len(res.Layers) != len(ann.Layers()) || res.FileInputs != ann.InputSize() {
		t.Errorf("result %+v for %v", res, ann)
	}
	exp, err := formats.ReadNPZ(testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed1_expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	obs, q := exp["states"].Float32s(), exp["q"].Float32s()
	in, outs := ann.InputSize(), ann.OutputSize()
	got := make([]float32, outs)
	ws := ann.NewWorkspace(1)
	for i := 0; i < len(obs)/in; i++ {
		ann.Forward(got, obs[i*in:(i+1)*in], ws)
		for j := range got {
			if got[j] != q[i*outs+j] {
				t.Fatalf("state %d: Q %v, torch %v", i, got, q[i*outs:(i+1)*outs])
			}
		}
	}
}

// DSQN's bias input: a width that fits neither reading is refused naming
// the options that decide it; a wrong --semantics value names Semantics.
func TestImportPyTorchOptionErrors(t *testing.T) {
	opts := DefaultImportPyTorchOptions()
	opts.Input, opts.Output = testfixtures.Dir(t, "spiking", "torch_sqn_dsqn_seed3.pt"), filepath.Join(t.TempDir(), "snn.safetensors")
	opts.Semantics, opts.Observations = formats.SemanticsDSQN, 7
	_, err := ImportPyTorch(opts)
	var oe *OptionError
	if !errors.As(err, &oe) || !oe.Invalid || !strings.Contains(err.Error(), "(Observations)") || !strings.Contains(err.Error(), "with BiasInput yes or no") ||
		!strings.Contains(err.Error(), opts.Input) {
		t.Errorf("DSQN width 7: %v", err)
	}
	opts.Semantics = "spiking"
	if _, err := ImportPyTorch(opts); !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), `Semantics "spiking": want ann or dsqn`) {
		t.Errorf("bad semantics: %v", err)
	}
}

// The result says why DSQN's constant-1 input was chosen, naming the
// option, which a front end writes its own way.
func TestImportDSQNBiasReason(t *testing.T) {
	opts := DefaultImportPyTorchOptions()
	opts.Input, opts.Output = testfixtures.Dir(t, "spiking", "torch_sqn_dsqn_seed3.pt"), filepath.Join(t.TempDir(), "snn.safetensors")
	opts.Semantics, opts.BiasInput = formats.SemanticsDSQN, "yes"
	res, err := ImportPyTorch(opts)
	if err != nil {
		t.Fatal(err)
	}
	flag := func(field string) string { return "--" + strings.ToLower(field) }
	if res.BiasInput == nil || !*res.BiasInput || res.BiasInputReason != "{BiasInput} yes" || OptionText(res.BiasInputReason, flag) != "--biasinput yes" {
		t.Errorf("bias input %v, reason %q", res.BiasInput, res.BiasInputReason)
	}
}
