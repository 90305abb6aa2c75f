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

// smallSQN are flags for a run of about a second: small network, short
// schedule, keep-best and checkpoints inside the run.
var smallSQN = []string{"train", "sqn", "--steps", "1500", "--seed", "2", "--hidden", "16,16", "--batch", "16",
	"--timesteps", "8", "--warmup", "200", "--eps-steps", "500", "--keep-best-every", "500", "--keep-best-episodes", "2",
	"--eval-episodes", "3", "--checkpoint-every", "500", "--buffer", "2000"}

// A run writes its files, prints sqn_torch.py's RESULT fields, and the kept
// SNN file loads with the run's T and sizes; the same flags give the same
// model bytes; resuming the finished run reproduces them.
func TestTrainSQNRun(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	var outs [2]string
	for i, dir := range []string{dirA, dirB} {
		code, out, errOut := runDQNCLI(t, append(smallSQN, "--out", dir, "--json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		outs[i] = out
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(outs[0]), &res); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, outs[0])
	}
	for _, k := range []string{"seed", "steps", "timesteps", "sizes", "steps_per_s", "train_wall_s", "ms_per_update",
		"episodes", "eval_mean", "eval_min", "eval_max", "kept_best", "spikes_per_decision", "synops_per_decision"} {
		if _, ok := res[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if got := res["updates"].(float64); got != 1500-200 {
		t.Errorf("updates = %v, want 1300", got)
	}
	for _, name := range []string{workflow.SQNModelFile, workflow.SQNFinalFile, dqnMetricsFile, dqnConfigFile, dqnCurveFile, dqnCheckpointFile} {
		if _, err := os.Stat(filepath.Join(dirA, name)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	a, b := readDQNFile(t, filepath.Join(dirA, workflow.SQNModelFile)), readDQNFile(t, filepath.Join(dirB, workflow.SQNModelFile))
	if !bytes.Equal(a, b) {
		t.Error("two runs with the same flags wrote different model files")
	}
	s, meta, err := formats.LoadSNN(filepath.Join(dirA, workflow.SQNModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "4-16-16-2" || s.Timesteps != 8 || meta.Provenance.Source != "sqn" {
		t.Errorf("model file: %s at T=%d, source %q; want 4-16-16-2 at T=8 from sqn", s, s.Timesteps, meta.Provenance.Source)
	}
	// The finished run resumes to the same outputs.
	code, _, errOut := runDQNCLI(t, "train", "sqn", "--out", dirA, "--resume", "--json")
	if code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errOut)
	}
	if !bytes.Equal(a, readDQNFile(t, filepath.Join(dirA, workflow.SQNModelFile))) {
		t.Error("resuming the finished run changed the model file")
	}
	// A second fresh run into the same directory is refused.
	code, _, errOut = runDQNCLI(t, append(smallSQN, "--out", dirA)...)
	if code == 0 || !strings.Contains(errOut, "already holds a run") {
		t.Errorf("rerun into a used --out: exit %d, %s", code, errOut)
	}
	code, _, errOut = runDQNCLI(t, "train", "sqn", "--out", t.TempDir(), "--surrogate", "tanh")
	if code != 2 || !strings.Contains(errOut, "--surrogate") {
		t.Errorf("bad --surrogate: exit %d, %s", code, errOut)
	}
}
