package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// smallEprop is a run of about a second: short trials, small batch.
var smallEprop = []string{"train", "eprop", "--task", "evidence-accumulation", "--batch", "3", "--seed", "4",
	"--background-steps", "60", "--cues", "3", "--eval-trials", "8", "--checkpoint-every", "2"}

func runEpropCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// Two equal runs write identical model files; a run stopped at iteration 2
// and resumed to 4 writes the same model and checkpoint as a straight run
// of 4; --json carries the result fields.
func TestTrainEpropRunAndResume(t *testing.T) {
	straight, again, resumed := t.TempDir(), t.TempDir(), t.TempDir()
	var res map[string]any
	for _, dir := range []string{straight, again} {
		code, out, errOut := runEpropCLI(t, append(smallEprop, "--iterations", "4", "--out", dir, "--json")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
		}
	}
	for _, k := range []string{"iterations", "batch", "eval_accuracy", "eval_trials", "ms_per_iteration", "train_wall_s", "spikes_per_trial", "synops_per_trial", "final_loss"} {
		if _, ok := res[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if res["iterations"].(float64) != 4 {
		t.Errorf("iterations %v, want 4", res["iterations"])
	}
	if code, _, errOut := runEpropCLI(t, append(smallEprop, "--iterations", "2", "--out", resumed)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := runEpropCLI(t, "train", "eprop", "--resume", "--iterations", "4", "--out", resumed); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	model := func(dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, workflow.EpropModelFile))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(model(straight), model(again)) {
		t.Error("two runs with the same flags wrote different model files")
	}
	if !bytes.Equal(model(straight), model(resumed)) {
		t.Error("the resumed run's model differs from the straight run's")
	}
	a, err := formats.ReadNPZ(filepath.Join(straight, workflow.EpropCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := formats.ReadNPZ(filepath.Join(resumed, workflow.EpropCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"w_rec", "m_rec", "v_in", "loss", "accuracy", "eval_accuracy"} {
		if !equalFloats(a[name].Data, b[name].Data) {
			t.Errorf("checkpoint array %q differs between the straight and the resumed run: %v vs %v", name, a[name].Data, b[name].Data)
		}
	}
	metrics, err := os.ReadFile(filepath.Join(resumed, workflow.EpropMetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(metrics), "\n"); lines != 5 {
		t.Errorf("metrics.csv has %d lines, want a header and 4 rows:\n%s", lines, metrics)
	}
	net, fb, meta, err := formats.LoadRecurrent(filepath.Join(straight, workflow.EpropModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if net.Neurons != 100 || net.Inputs != 40 || len(fb) != 200 || meta.Task["cues"] != 3 {
		t.Errorf("model: %d neurons, %d inputs, %d feedback values, task %v", net.Neurons, net.Inputs, len(fb), meta.Task)
	}
	// eval on the training's evaluation trials (same seed and count) gives
	// the training's final fresh-trial accuracy.
	code, out, errOut := runEpropCLI(t, "eval", "--model", filepath.Join(straight, workflow.EpropModelFile), "--episodes", "8", "--seed", "4", "--json")
	var ev map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
		t.Fatalf("eval: exit %d, %q %q", code, out, errOut)
	}
	if ev["accuracy"] != res["eval_accuracy"] || ev["trials"].(float64) != 8 {
		t.Errorf("eval accuracy %v on %v trials, training's final evaluation %v", ev["accuracy"], ev["trials"], res["eval_accuracy"])
	}
	code, out, errOut = runEpropCLI(t, "inspect", filepath.Join(straight, workflow.EpropModelFile))
	if code != 0 || !strings.Contains(out, "recurrent-snn 40-100(50 LIF, 50 ALIF, recurrent)-2 softmax") {
		t.Errorf("inspect: exit %d, %q %q", code, out, errOut)
	}
	for _, name := range []string{workflow.EpropCurveFile, workflow.EpropRasterFile, workflow.EpropConfigFile} {
		if _, err := os.Stat(filepath.Join(straight, name)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTrainEpropBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--task", "delayed-match", "--out", dir}, 2, `--task "delayed-match"`},
		{[]string{"--out", dir, "--lif", "0", "--alif", "0"}, 2, "0 LIF and 0 ALIF"},
		{[]string{"--out", dir, "--batch", "0"}, 2, "batch of 0"},
		{[]string{"--out", dir, "--gradient", "rtrl"}, 2, `gradient "rtrl"`},
		{[]string{"--out", dir, "--eval-trials", "0"}, 2, "--eval-trials 0"},
		{[]string{"--iterations", "1"}, 2, "--out DIR is required"},
		{[]string{"--out", filepath.Join(dir, "none"), "--resume"}, 1, "--resume"},
	} {
		code, _, errOut := runEpropCLI(t, append([]string{"train", "eprop"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// A checkpoint with a NaN weight or moment, or the wrong shape, is refused
// with the file and array named.
func TestTrainEpropResumeBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runEpropCLI(t, append(smallEprop, "--iterations", "2", "--out", dir)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	path := filepath.Join(dir, workflow.EpropCheckpointFile)
	good, err := formats.LoadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		array string
		edit  func(a *formats.Array)
		want  string
	}{
		{"w_rec", func(a *formats.Array) { a.Data[1] = math.NaN() }, "recurrent weights: element (0, 1) is NaN"},
		{"v_in", func(a *formats.Array) { a.Data[3] = -1 }, `array "v_in" element 3 is -1`},
		{"b_feedback", func(a *formats.Array) { a.Data = a.Data[:5]; a.Shape = []int{5} }, `array "b_feedback" has 5 values, want 200`},
	} {
		var arrays []*formats.Array
		for _, a := range good {
			b := *a
			b.Data = append([]float64(nil), a.Data...)
			if a.Name == c.array {
				c.edit(&b)
			}
			arrays = append(arrays, &b)
		}
		if err := formats.WriteNPZ(path, arrays); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runEpropCLI(t, "train", "eprop", "--resume", "--iterations", "3", "--out", dir)
		if code == 0 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, workflow.EpropCheckpointFile) {
			t.Errorf("%s: exit %d, %q; want an error naming %s and %q", c.array, code, errOut, workflow.EpropCheckpointFile, c.want)
		}
	}
}
