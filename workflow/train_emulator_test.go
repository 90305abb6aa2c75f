package workflow

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/emulator"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
)

// linearProbe writes a probe file of x' = 0.9 x + 0.5 u under random
// inputs: 8 trials of 40 steps.
func linearProbe(t *testing.T, path string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	p := &probe.Data{Trials: 8, Steps: 40, InputSize: 1, TargetSize: 1, Dt: 0.1, InputNames: []string{"u"}, TargetNames: []string{"x"}}
	for trial := 0; trial < p.Trials; trial++ {
		x := rng.NormFloat64()
		for k := 0; k < p.Steps; k++ {
			u := rng.NormFloat64()
			p.Inputs = append(p.Inputs, u)
			p.Targets = append(p.Targets, x)
			x = 0.9*x + 0.5*u
		}
	}
	if err := probe.WriteNPZ(path, p); err != nil {
		t.Fatal(err)
	}
}

// A rate forward run writes its files, and the saved model reloads to the
// validation NRMSE the run reported, bit for bit; the run's progress counts
// every batch of every epoch.
// rateEmulatorJob writes the linear probe into dir and prepares a rate
// emulator run on it in dir/run (hidden units, epochs, batch 16).
func rateEmulatorJob(t *testing.T, dir string, hidden, epochs int) (TrainEmulatorOptions, *EmulatorJob) {
	t.Helper()
	data := filepath.Join(dir, "lin.npz")
	linearProbe(t, data)
	cfg := train.DefaultRateEmulatorConfig()
	cfg.Hidden, cfg.Epochs, cfg.Batch = []int{hidden}, epochs, 16
	o := TrainEmulatorOptions{Data: data, Task: probe.ForwardTask, Kind: emulator.KindRate, Config: cfg,
		Windows: probe.WindowOptions{Length: 10, ValFraction: 0.25}, Out: filepath.Join(dir, "run"), CheckpointEvery: 1}
	doc, err := NewEmulatorDoc(o)
	if err != nil {
		t.Fatal(err)
	}
	job, err := PrepareEmulator(doc, o)
	if err != nil {
		t.Fatal(err)
	}
	return o, job
}

func TestTrainEmulatorJob(t *testing.T) {
	o, job := rateEmulatorJob(t, t.TempDir(), 8, 3)
	batches := int64(0)
	res, err := job.Train(context.Background(), func(s train.EmulatorStatus) {
		if !s.EpochDone {
			batches++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if batches != job.TotalBatches() || res.Epochs != 3 || res.Kind != emulator.KindRate || res.Task != "forward" {
		t.Errorf("%d batches reported of %d; result %+v", batches, job.TotalBatches(), res)
	}
	for _, name := range []string{EmulatorModelFile, EmulatorConfigFile, EmulatorMetricsFile, EmulatorTracesFile, EmulatorCkptFile} {
		if _, err := os.Stat(filepath.Join(o.Out, name)); err != nil {
			t.Error(err)
		}
	}
	m, err := emulator.Load(filepath.Join(o.Out, EmulatorModelFile))
	if err != nil {
		t.Fatal(err)
	}
	samples, err := emulator.LoadSamples(o.Data, &m.Doc.Task, m.Doc.Windows)
	if err != nil {
		t.Fatal(err)
	}
	nrmse, err := m.Doc.Task.NRMSE(samples.Val, m.Predictor())
	if err != nil || !slices.Equal(nrmse, res.ValNRMSE) {
		t.Errorf("reloaded NRMSE %v (%v), the run's %v", nrmse, err, res.ValNRMSE)
	}
	metrics, _ := os.ReadFile(filepath.Join(o.Out, EmulatorMetricsFile))
	if rows := strings.Count(string(metrics), "\n"); rows != 1+res.Epochs {
		t.Errorf("metrics.csv has %d lines for %d epochs", rows, res.Epochs)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.Contains(text.String(), "rate forward emulator: best epoch") || !strings.Contains(text.String(), "wrote "+o.Out) {
		t.Errorf("text: %q (%v)", text.String(), err)
	}
}

// The run directory refuses what cannot go on: resuming without a
// checkpoint, a fresh run over a finished one, an initial model of
// another task.
func TestTrainEmulatorRunDirectoryErrors(t *testing.T) {
	dir := t.TempDir()
	var oe *OptionError
	if _, err := ResumeEmulatorDoc(TrainEmulatorOptions{Out: dir}, nil); !errors.As(err, &oe) || !oe.Invalid || !strings.Contains(err.Error(), dir+" holds no checkpoint") {
		t.Errorf("resume of an empty directory: %v", err)
	}
	o, job := rateEmulatorJob(t, dir, 4, 1)
	if _, err := job.Train(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	var exists *RunExistsError
	if _, err := NewEmulatorDoc(o); !errors.As(err, &exists) || exists.Dir != o.Out {
		t.Errorf("fresh run over a finished one: %v", err)
	}
	o.Out, o.Task, o.Init = filepath.Join(dir, "seq"), probe.SequenceTask, filepath.Join(dir, "run", EmulatorModelFile)
	if _, err := NewEmulatorDoc(o); !errors.As(err, &oe) || oe.Invalid || !strings.HasSuffix(err.Error(), "is a rate forward emulator, this run trains a rate sequence one") {
		t.Errorf("sequence run from a forward model: %v", err)
	}
	o.Out, o.Task, o.Kind = filepath.Join(dir, "run"), probe.ForwardTask, emulator.KindSpiking
	if _, err := ResumeEmulatorDoc(o, map[string]bool{"kind": true}); !errors.As(err, &oe) || !strings.Contains(err.Error(), "trains a rate forward emulator, not Kind spiking") {
		t.Errorf("resume as another kind: %v", err)
	}
	if _, err := ResumeEmulatorDoc(o, map[string]bool{"lr": true, "stride": true}); !errors.As(err, &oe) || err.Error() != "Resume: Stride cannot change in a run under way (it changes the samples)" {
		t.Errorf("resume with another stride: %v", err)
	}
	o.Config.LR, o.Config.Epochs, o.Data = 0.5, 7, "other.npz"
	resumed, err := ResumeEmulatorDoc(o, map[string]bool{"lr": true, "data": true})
	if err != nil || resumed.Config.LR != 0.5 || resumed.Config.Epochs != 1 || resumed.Source != "other.npz" || resumed.Kind != emulator.KindRate {
		t.Errorf("resume with --lr and --data: %+v, %v; want lr 0.5 and the data from the options, the rest from the run", resumed.Config, err)
	}
}
