package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/workflow"
)

func decodeJSON[T any](t *testing.T, text string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, text)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", text)
	}
	return v
}

// A trained file reloads and reproduces its validation figures exactly:
// train emulator's val_nrmse equals eval-emulator's one-step NRMSE bit for
// bit, for a rate forward model and a spiking sequence emulator.
func TestEmulatorReloadReproducesValidation(t *testing.T) {
	dir := t.TempDir()
	vdp := filepath.Join(dir, "vdp.npz")
	if code, _, errOut := runCLI(t, "probe", "generate", "--system", "vanderpol", "--trials", "6", "--duration", "6", "--dt", "0.05", "-o", vdp); code != 0 {
		t.Fatalf("probe generate: %s", errOut)
	}
	arm := filepath.Join(dir, "arm.csv")
	if code, _, errOut := runCLI(t, "probe", "generate", "--system", "arm", "--trials", "5", "--duration", "0.6", "-o", arm); code != 0 {
		t.Fatalf("probe generate arm: %s", errOut)
	}
	for _, tc := range []struct {
		name, data string
		args       []string
	}{
		{"rate forward", vdp, []string{"--task", "forward", "--hidden", "16,16", "--epochs", "3"}},
		{"rate sequence", arm, []string{"--task", "sequence", "--window", "20", "--hidden", "16", "--epochs", "3"}},
		{"spiking sequence", arm, []string{"--task", "sequence", "--kind", "spiking", "--window", "20", "--hidden", "12", "--epochs", "2", "--batch", "8"}},
		{"spiking feedback sequence", arm, []string{"--task", "sequence", "--kind", "spiking", "--feedback", "--window", "20", "--hidden", "12", "--epochs", "2", "--batch", "8"}},
		{"rate clip-floor forward", vdp, []string{"--task", "forward", "--hidden", "16,16", "--epochs", "3", "--clip-floor", "8"}},
		{"spiking forward", vdp, []string{"--task", "forward", "--kind", "spiking", "--hidden", "12,12", "--timesteps", "8", "--epochs", "2", "--batch", "16"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"train", "emulator", "--data", tc.data, "--out", out, "--json"}, tc.args...)
			code, stdout, errOut := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("train emulator: exit %d: %s", code, errOut)
			}
			trained := decodeJSON[workflow.TrainEmulatorResult](t, stdout)
			if len(trained.ValNRMSE) == 0 || trained.Epochs == 0 {
				t.Fatalf("result %+v", trained)
			}
			for _, f := range []string{workflow.EmulatorModelFile, workflow.EmulatorConfigFile, workflow.EmulatorMetricsFile, workflow.EmulatorTracesFile} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("output %s: %v", f, err)
				}
			}
			code, stdout, errOut = runCLI(t, "eval-emulator", "--model", trained.Model, "--data", tc.data, "--timesteps", "32", "--json")
			if code != 0 {
				t.Fatalf("eval-emulator: exit %d: %s", code, errOut)
			}
			ev := decodeJSON[workflow.EvalEmulatorResult](t, stdout)
			if !slices.Equal(ev.Results[0].OneStep, trained.ValNRMSE) {
				t.Errorf("reloaded NRMSE %v, at training %v", ev.Results[0].OneStep, trained.ValNRMSE)
			}
			switch {
			case tc.name == "rate clip-floor forward":
				if len(ev.Results) != 3 || ev.Results[1].Levels != 8 || ev.Results[2].Network != "snn" || ev.Results[2].Timesteps != 32 {
					t.Errorf("results %+v, want the clipped ANN, the ANN at 8 levels and its SNN at T=32", ev.Results)
				}
			case strings.HasPrefix(tc.name, "rate"):
				if len(ev.Results) != 2 || ev.Results[1].Network != "snn" || ev.Results[1].Timesteps != 32 {
					t.Errorf("results %+v, want the ANN and its SNN at T=32", ev.Results)
				}
			case tc.name == "spiking forward":
				if len(ev.Results) != 1 || ev.Results[0].Network != "spiking" || ev.Results[0].Timesteps != 8 || ev.Results[0].WindowRollout == nil {
					t.Errorf("results %+v, want the spiking forward model at T=8 with window rollouts", ev.Results)
				}
			}
		})
	}
}

func TestEvalEmulatorRollout(t *testing.T) {
	dir := t.TempDir()
	vdp := filepath.Join(dir, "vdp.npz")
	runCLI(t, "probe", "generate", "--system", "vanderpol", "--trials", "5", "--duration", "8", "-o", vdp)
	out := filepath.Join(dir, "run")
	if code, _, errOut := runCLI(t, "train", "emulator", "--data", vdp, "--hidden", "16", "--epochs", "2", "--out", out); code != 0 {
		t.Fatal(errOut)
	}
	plot := filepath.Join(dir, "nrmse.png")
	code, stdout, errOut := runCLI(t, "eval-emulator", "--model", filepath.Join(out, workflow.EmulatorModelFile), "--data", vdp,
		"--rollout", "15", "--system", "vanderpol", "--timesteps", "16", "--plot", plot, "--json")
	if code != 0 {
		t.Fatal(errOut)
	}
	ev := decodeJSON[workflow.EvalEmulatorResult](t, stdout)
	// The true system's free run from the validation states has the
	// limit cycle's period (±2 % with 15 s runs analysed after 5 s).
	if ev.Reference == nil || math.Abs(ev.Reference.Period-6.6633)/6.6633 > 0.02 {
		t.Errorf("reference free run %+v, want period ~6.663", ev.Reference)
	}
	if r := ev.Results[0]; len(r.Rollout1s) != 2 || len(r.RolloutFull) != 2 {
		t.Errorf("rollout figures %+v", r)
	}
	if _, err := os.Stat(plot); err != nil {
		t.Error(err)
	}
}

func TestEmulatorBadInput(t *testing.T) {
	dir := t.TempDir()
	vdp := filepath.Join(dir, "vdp.npz")
	runCLI(t, "probe", "generate", "--system", "vanderpol", "--trials", "4", "--duration", "2", "-o", vdp)
	nanCSV := filepath.Join(dir, "nan.csv")
	os.WriteFile(nanCSV, []byte("trial,u,target:x\n0,1,\n0,2,\n1,1,\n1,3,\n"), 0o644)
	infCSV := filepath.Join(dir, "inf.csv")
	os.WriteFile(infCSV, []byte("trial,u,target:x\n0,1,1\n0,inf,2\n1,1,3\n1,3,4\n"), 0o644)
	ragged := filepath.Join(dir, "ragged.csv")
	os.WriteFile(ragged, []byte("trial,u,target:x\n0,1,1\n0,2,2\n1,1,3\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"window longer than a trial", []string{"train", "emulator", "--data", vdp, "--window", "100", "--out", filepath.Join(dir, "a")}, 1,
			"window of 100 steps is longer than a trial (40 steps)"},
		{"all-NaN targets", []string{"train", "emulator", "--data", nanCSV, "--window", "2", "--out", filepath.Join(dir, "b")}, 1,
			`target "x" is NaN (missing) in every sample`},
		{"non-finite input", []string{"train", "emulator", "--data", infCSV, "--window", "2", "--out", filepath.Join(dir, "c")}, 1,
			`input "u" of trial 0, step 1 is +Inf`},
		{"ragged trials", []string{"train", "emulator", "--data", ragged, "--window", "2", "--out", filepath.Join(dir, "d")}, 1,
			"trial 2 has 1 steps but trial 1 has 2"},
		{"spiking forward T=0", []string{"train", "emulator", "--data", vdp, "--window", "20", "--kind", "spiking", "--timesteps", "0", "--out", filepath.Join(dir, "e")}, 2,
			"needs --timesteps T > 0"},
		{"spiking clip-floor", []string{"train", "emulator", "--data", vdp, "--window", "20", "--kind", "spiking", "--task", "sequence", "--clip-floor", "8", "--out", filepath.Join(dir, "e")}, 2,
			"--clip-floor applies to --kind rate"},
		{"unknown task", []string{"train", "emulator", "--data", vdp, "--task", "inverse", "--out", filepath.Join(dir, "f")}, 2, `--task "inverse"`},
		{"unknown system", []string{"probe", "generate", "--system", "pendulum", "-o", filepath.Join(dir, "p.npz")}, 2, `--system "pendulum"`},
		{"bad dt", []string{"probe", "generate", "--dt", "-1", "-o", filepath.Join(dir, "p.npz")}, 2, "dt -1"},
		{"bad extension", []string{"probe", "generate", "-o", filepath.Join(dir, "p.txt")}, 2, "want a .npz or .csv file"},
		{"not an emulator", []string{"eval-emulator", "--model", vdp, "--data", vdp}, 1, ""},
		{"no model", []string{"eval-emulator", "--data", vdp}, 2, "--model FILE is required"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", tc.name, code, errOut, tc.code, tc.want)
		}
	}
	// A probe file whose inputs and targets disagree in steps.
	p := &probe.Data{Trials: 2, Steps: 3, InputSize: 1, TargetSize: 1, Dt: 1, Inputs: make([]float64, 6), Targets: make([]float64, 5)}
	if err := probe.WriteNPZ(filepath.Join(dir, "x.npz"), p); err == nil || !strings.Contains(err.Error(), "targets hold 5 values") {
		t.Errorf("writing a mismatched probe: %v", err)
	}
}

// A train emulator run killed with SIGKILL after a checkpoint and resumed
// ends with model, metrics, config and plot byte-identical to an
// uninterrupted run's; resuming with other settings is refused.
func TestTrainEmulatorResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	vdp := filepath.Join(dir, "vdp.npz")
	if code, _, errOut := runCLI(t, "probe", "generate", "--system", "vanderpol", "--trials", "12", "--duration", "20", "--dt", "0.05", "-o", vdp); code != 0 {
		t.Fatalf("probe generate: %s", errOut)
	}
	flags := []string{"train", "emulator", "--data", vdp, "--task", "forward", "--hidden", "24,24", "--epochs", "10", "--batch", "16", "--lr", "3e-3"}
	ref := filepath.Join(dir, "ref")
	code, stdout, errOut := runCLI(t, append(flags, "--out", ref, "--json")...)
	if code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errOut)
	}
	want := decodeJSON[workflow.TrainEmulatorResult](t, stdout)

	run := filepath.Join(dir, "run")
	args := append([]string{"-test.run=^TestTrainDQNHelperProcess$", "--"}, flags...)
	cmd := exec.Command(os.Args[0], append(args, "--out", run)...)
	cmd.Env = append(os.Environ(), "SPIKEBRIDGE_HELPER_PROCESS=1")
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the child as soon as its first epoch's checkpoint is on disk.
	ckpt := filepath.Join(run, workflow.EmulatorCkptFile)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(run, workflow.EmulatorMetricsFile)); err == nil {
		t.Fatalf("the child finished before it was killed; the test did not interrupt it\n%s", childErr.String())
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint after the kill: %v", err)
	}

	// Other settings than the checkpoint's are refused, and nothing is written.
	code, _, errOut = runCLI(t, "train", "emulator", "--resume", "--out", run, "--lr", "1e-3")
	if code == 0 || !strings.Contains(errOut, "other settings") {
		t.Errorf("resume with another --lr: exit %d, %q", code, errOut)
	}
	code, stdout, errOut = runCLI(t, "train", "emulator", "--resume", "--out", run, "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	got := decodeJSON[workflow.TrainEmulatorResult](t, stdout)
	if got.ResumedAtEpoch < 1 || got.ResumedAtEpoch >= 10 {
		t.Errorf("resumed_at_epoch %d, want an epoch inside the run", got.ResumedAtEpoch)
	}
	t.Logf("killed and resumed after epoch %d", got.ResumedAtEpoch)
	if !slices.Equal(got.ValNRMSE, want.ValNRMSE) || got.BestEpoch != want.BestEpoch || got.Updates != want.Updates {
		t.Errorf("resumed run: NRMSE %v best epoch %d updates %d; uninterrupted %v, %d, %d",
			got.ValNRMSE, got.BestEpoch, got.Updates, want.ValNRMSE, want.BestEpoch, want.Updates)
	}
	for _, name := range []string{workflow.EmulatorModelFile, workflow.EmulatorMetricsFile, workflow.EmulatorConfigFile, workflow.EmulatorTracesFile} {
		a, errA := os.ReadFile(filepath.Join(ref, name))
		b, errB := os.ReadFile(filepath.Join(run, name))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s of the killed-and-resumed run differs from the uninterrupted run's (%v, %v)", name, errA, errB)
		}
	}
	// A fresh run into a directory holding one is refused.
	if code, _, errOut := runCLI(t, append(flags, "--out", run)...); code == 0 || !strings.Contains(errOut, "already holds a run") {
		t.Errorf("second run into %s: exit %d, %q", run, code, errOut)
	}
}
