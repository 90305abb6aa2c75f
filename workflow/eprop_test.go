package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/learn"
)

// smallEprop is a run of a fraction of a second: short trials, batch 2.
func smallEprop(dir string, iterations int) EpropOptions {
	cfg := learn.DefaultEvidenceRun()
	cfg.Iterations, cfg.Batch, cfg.Seed = iterations, 2, 4
	cfg.Task.BackgroundSteps, cfg.Task.Cues = 60, 3
	return EpropOptions{Config: cfg, Task: "evidence-accumulation", EvalTrials: 4, CheckpointEvery: 2, Out: dir}
}

// A checkpoint restores the run it was written from exactly: weights, Adam
// state, history and evaluations; metrics.csv has one row per iteration
// with the fresh-trial accuracy at the checkpoints.
func TestEpropCheckpointRestoresRun(t *testing.T) {
	dir := t.TempDir()
	job, err := StartEprop(smallEprop(dir, 3))
	if err != nil {
		t.Fatal(err)
	}
	var checkpoints []int
	res, err := job.Train(func(s EpropStatus) {
		if s.Checkpoint {
			checkpoints = append(checkpoints, s.Iteration)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(checkpoints, []int{2, 3}) || res.Iterations != 3 || res.EvalTrials != 4 {
		t.Fatalf("checkpoints at %v, result %+v; want 2 and 3 of 3 iterations", checkpoints, res)
	}
	run, evals, saved, err := resumeEpropRun(dir, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, got := job.run.Trainer, run.Trainer
	for name, pair := range map[string][2][]float64{
		"w_in": {want.Net.InputWeights, got.Net.InputWeights}, "w_rec": {want.Net.RecurrentWeights, got.Net.RecurrentWeights},
		"w_out": {want.Net.OutputWeights, got.Net.OutputWeights}, "feedback": {want.Feedback, got.Feedback},
		"m_rec": {want.MomentRecurrent, got.MomentRecurrent}, "v_out": {want.VarianceOutput, got.VarianceOutput},
	} {
		if !slices.Equal(pair[0], pair[1]) {
			t.Errorf("%s restored differently", name)
		}
	}
	if got.AdamStep != want.AdamStep || run.Iteration != 3 || !slices.Equal(run.History, job.run.History) {
		t.Errorf("Adam step %d (want %d), iteration %d, history equal %v", got.AdamStep, want.AdamStep, run.Iteration, slices.Equal(run.History, job.run.History))
	}
	if !slices.Equal(evals, job.evals) || len(evals) != 2 || saved.EvalTrials != 4 || saved.CheckpointEvery != 2 {
		t.Errorf("evaluations %v (want %v), saved %d trials every %d", evals, job.evals, saved.EvalTrials, saved.CheckpointEvery)
	}
	metrics, err := os.ReadFile(filepath.Join(dir, EpropMetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(metrics)), "\n")
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "iteration,loss,") {
		t.Fatalf("metrics.csv:\n%s", metrics)
	}
	for i, row := range rows[1:] {
		cols := strings.Split(row, ",")
		loss, _ := strconv.ParseFloat(cols[1], 64)
		if cols[0] != strconv.Itoa(i+1) || loss != job.run.History[i].Loss {
			t.Errorf("row %d: %q, want iteration %d and loss %v", i+1, row, i+1, job.run.History[i].Loss)
		}
		if fresh := cols[3] != ""; fresh != (i+1 >= 2) {
			t.Errorf("row %d: fresh accuracy %q; want one at the checkpoints (2, 3) only", i+1, cols[3])
		}
	}
	for _, name := range []string{EpropModelFile, EpropCurveFile, EpropRasterFile, EpropConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

// A fresh run refuses a directory holding one; a resumption refuses fewer
// iterations than the checkpoint's and names the checkpoint.
func TestEpropRunDirectoryErrors(t *testing.T) {
	dir := t.TempDir()
	job, err := StartEprop(smallEprop(dir, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Train(func(EpropStatus) {}); err != nil {
		t.Fatal(err)
	}
	var exists *RunExistsError
	if _, err := StartEprop(smallEprop(dir, 2)); !errors.As(err, &exists) || exists.Dir != dir || exists.File != EpropConfigFile {
		t.Errorf("second fresh run: %v, want a RunExistsError naming %s", err, EpropConfigFile)
	}
	opts := smallEprop(dir, 1)
	opts.Resume = true
	var past *OptionError
	var resume *ResumeError
	_, err = StartEprop(opts)
	if !errors.As(err, &past) || past.Invalid || err.Error() != "Resume: "+filepath.Join(dir, EpropCheckpointFile)+" is at iteration 2; Iterations 1 must be at least that" {
		t.Errorf("resume to 1 of 2 iterations: %v", err)
	}
	opts.EvalTrials = 0
	if _, err := StartEprop(opts); !errors.As(err, &past) || !past.Invalid || err.Error() != "EvalTrials 0: want 1 to 65536" {
		t.Errorf("no evaluation trials: %v", err)
	}
	opts.EvalTrials = 4
	opts.Out = filepath.Join(dir, "none")
	if _, err := StartEprop(opts); !errors.As(err, &resume) || !strings.Contains(err.Error(), EpropConfigFile) {
		t.Errorf("resume without a run: %v, want a ResumeError naming config.json", err)
	}
}
