package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/workflow"
)

// TestPipelineFromSB3Tanh runs the pipeline on a Stable-Baselines3 PPO zip
// (a Tanh actor): the import gives the actor with Tanh, the baseline
// conversion (which would treat the network as ReLU) is skipped, and the
// distilled ReLU student is converted and compared, to a report (issue 22).
// Then the imported model file itself is accepted by --from-pytorch.
func TestPipelineFromSB3Tanh(t *testing.T) {
	zip := testfixtures.Dir(t, "imports", "sb3", "ppo_like.zip")
	dir := filepath.Join(t.TempDir(), "ppo")
	code, out, errOut := runTinyPipeline(t, "--from-pytorch", zip, "--out", dir, "--episodes", "2", "--timesteps", "8", "--json")
	if code != 0 {
		t.Fatalf("pipeline --from-pytorch %s: exit %d\n%s", zip, code, errOut)
	}
	var res workflow.PipelineResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "tanh") || res.BestMethod != workflow.MethodDistill {
		t.Errorf("notes %q, best method %q: want the tanh note and distill", res.Notes, res.BestMethod)
	}
	if _, err := os.Stat(filepath.Join(dir, "snn-baseline.safetensors")); !os.IsNotExist(err) {
		t.Errorf("a baseline SNN was written for a tanh network (%v)", err)
	}
	ann, _, err := formats.LoadModel(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tanh := 0
	for _, l := range ann.Layers() {
		if l.Kind == model.Tanh {
			tanh++
		}
	}
	if tanh != 2 {
		t.Errorf("imported %v with %d tanh layers, want SB3's default Tanh after both hidden layers", ann, tanh)
	}
	for _, f := range []string{"report.md", "snn-distill.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}

	// A spikebridge ANN model file is taken as it is; a spiking one refused.
	dir2 := filepath.Join(t.TempDir(), "again")
	if code, _, errOut := runTinyPipeline(t, "--from-pytorch", filepath.Join(dir, "model.safetensors"), "--out", dir2,
		"--episodes", "2", "--timesteps", "8"); code != 0 {
		t.Fatalf("pipeline --from-pytorch MODEL.safetensors: exit %d\n%s", code, errOut)
	}
	code, _, errOut = runTinyPipeline(t, "--from-pytorch", filepath.Join(dir, "snn-distill.safetensors"), "--out", filepath.Join(t.TempDir(), "x"))
	if code != 2 || !strings.Contains(errOut, `spikebridge: --from-pytorch `) || !strings.Contains(errOut, `"snn" model file`) {
		t.Errorf("pipeline --from-pytorch SNN.safetensors: exit %d, %s; want exit 2 naming the spiking file", code, errOut)
	}
}
