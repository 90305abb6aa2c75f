package workflow

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// EvalEmulator reproduces a run's validation NRMSE from its file bit for
// bit, converts it at every T, and refuses a reference system of other
// sizes than the data's.
func TestEvalEmulatorReproducesRun(t *testing.T) {
	o, job := rateEmulatorJob(t, t.TempDir(), 8, 2)
	data := o.Data
	trained, err := job.Train(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(o.Out, EmulatorModelFile)
	res, err := EvalEmulator(EvalEmulatorOptions{Models: []string{model}, Data: data, Timesteps: []int{8, 16}, Norm: "auto", Percentile: 99.9})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 3 || res.Results[0].Network != "ann" || !slices.Equal(res.Results[0].OneStep, trained.ValNRMSE) {
		t.Fatalf("results %+v; want ann with the run's NRMSE %v, then snn T=8 and T=16", res.Results, trained.ValNRMSE)
	}
	var table strings.Builder
	if err := res.WriteTable(&table); err != nil || !strings.Contains(table.String(), "snn T=16") {
		t.Errorf("table %q (%v)", table.String(), err)
	}
	var oe *OptionError
	_, err = EvalEmulator(EvalEmulatorOptions{Models: []string{model}, Data: data, Rollout: 1, System: "arm", Norm: "auto", Percentile: 99.9})
	if !errors.As(err, &oe) || !oe.Invalid || err.Error() != "System arm has 2 inputs and 4 states, the data 1 and 1" {
		t.Errorf("reference of other sizes: %v", err)
	}
}
