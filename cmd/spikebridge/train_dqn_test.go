package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// Files of a DQN run directory (the tests of train dqn, train sqn and the
// signals name them).
const (
	dqnCheckpointFile = workflow.DQNCheckpointFile
	dqnConfigFile     = workflow.DQNConfigFile
	dqnModelFile      = workflow.DQNModelFile
	dqnFinalFile      = workflow.DQNFinalFile
	dqnMetricsFile    = workflow.DQNMetricsFile
	dqnCurveFile      = workflow.DQNCurveFile
)

// smallDQN are flags for a run of a few seconds at most: small network,
// short schedule, keep-best and checkpoints inside the run.
var smallDQN = []string{"train", "dqn", "--steps", "3000", "--seed", "3", "--hidden", "16,16", "--batch", "16",
	"--warmup", "200", "--eps-steps", "1000", "--keep-best-every", "500", "--keep-best-episodes", "3",
	"--eval-episodes", "5", "--checkpoint-every", "250", "--buffer", "2000", "--tau", "0.01"}

func runDQNCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func readDQNFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var runFiles = []string{dqnModelFile, dqnFinalFile, dqnMetricsFile, dqnConfigFile}

// Same seed, same flags: identical metrics, models and config.
func TestTrainDQNDeterministic(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	code, out, errOut := runDQNCLI(t, append(smallDQN, "--out", dirA, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
	}
	// The field names of dqn_torch.py's RESULT line.
	for _, k := range []string{"seed", "steps", "steps_per_s", "train_wall_s", "updates", "episodes", "solved_step",
		"eval_mean", "eval_min", "eval_max", "kept_best", "final_mean_last20", "learn_share"} {
		if _, ok := res[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if got := res["updates"].(float64); got != 3000-200 {
		t.Errorf("updates = %v, want steps - warmup = 2800", got)
	}
	if code, _, errOut := runDQNCLI(t, append(smallDQN, "--out", dirB)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range runFiles {
		if !bytes.Equal(readDQNFile(t, filepath.Join(dirA, name)), readDQNFile(t, filepath.Join(dirB, name))) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	metrics := string(readDQNFile(t, filepath.Join(dirA, dqnMetricsFile)))
	if !strings.HasPrefix(metrics, "step,episode,return,loss,epsilon,eval\n") || strings.Count(metrics, "\n") < 20 {
		t.Errorf("metrics.csv looks wrong:\n%.300s", metrics)
	}
	net, _, err := formats.LoadModel(filepath.Join(dirA, dqnModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if net.String() != "4-16-16-2" {
		t.Errorf("model.safetensors is %s, want 4-16-16-2", net)
	}
	if _, err := os.Stat(filepath.Join(dirA, dqnCurveFile)); err != nil {
		t.Error(err)
	}
}

// TestTrainDQNHelperProcess is not a test: it runs the CLI inside a child
// process started by TestTrainDQNResumeAfterSIGKILL.
func TestTrainDQNHelperProcess(t *testing.T) {
	if os.Getenv("SPIKEBRIDGE_HELPER_PROCESS") != "1" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(execute(args, os.Stdin, os.Stdout, os.Stderr))
}

// A run killed with SIGKILL after a checkpoint and resumed ends with models
// and metrics bit-identical to an uninterrupted run.
func TestTrainDQNResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	ref := t.TempDir()
	if code, _, errOut := runDQNCLI(t, append(smallDQN, "--out", ref)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errOut)
	}

	dir := t.TempDir()
	args := append([]string{"-test.run=^TestTrainDQNHelperProcess$", "--"}, smallDQN...)
	args = append(args, "--out", dir)
	// Kill the child as soon as its checkpoint has been written twice (steps
	// 250 and 500 of 3000), so it dies mid-run with a checkpoint on disk.
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SPIKEBRIDGE_HELPER_PROCESS=1")
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, dqnCheckpointFile)
	var firstMod time.Time
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if info, err := os.Stat(ckpt); err == nil {
			if firstMod.IsZero() {
				firstMod = info.ModTime()
			} else if info.ModTime() != firstMod {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, dqnMetricsFile)); err == nil {
		t.Fatalf("the child finished before it was killed; the test did not interrupt it\n%s", childErr.String())
	}
	if _, err := os.Stat(ckpt); err != nil {
		t.Fatalf("no checkpoint after the kill: %v", err)
	}

	code, out, errOut := runDQNCLI(t, "train", "dqn", "--resume", "--out", dir, "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	var res train.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.ResumedAt <= 0 || res.ResumedAt >= 3000 {
		t.Errorf("resumed_at_step = %d, want a step inside the run", res.ResumedAt)
	}
	t.Logf("killed and resumed at step %d", res.ResumedAt)
	for _, name := range runFiles {
		if !bytes.Equal(readDQNFile(t, filepath.Join(ref, name)), readDQNFile(t, filepath.Join(dir, name))) {
			t.Errorf("%s of the killed-and-resumed run differs from the uninterrupted run's", name)
		}
	}
}

func TestTrainDQNBadInput(t *testing.T) {
	finished := t.TempDir()
	if code, _, errOut := runDQNCLI(t, append(smallDQN, "--out", finished)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	model := readDQNFile(t, filepath.Join(finished, dqnModelFile))

	corrupt := t.TempDir()
	for _, name := range []string{dqnConfigFile, dqnModelFile, dqnCheckpointFile} {
		os.WriteFile(filepath.Join(corrupt, name), readDQNFile(t, filepath.Join(finished, name)), 0o644)
	}
	ck := readDQNFile(t, filepath.Join(corrupt, dqnCheckpointFile))
	ck[len(ck)/2] ^= 0xff
	os.WriteFile(filepath.Join(corrupt, dqnCheckpointFile), ck, 0o644)
	truncated := t.TempDir()
	for _, name := range []string{dqnConfigFile, dqnModelFile} {
		os.WriteFile(filepath.Join(truncated, name), readDQNFile(t, filepath.Join(finished, name)), 0o644)
	}
	os.WriteFile(filepath.Join(truncated, dqnCheckpointFile), ck[:100], 0o644)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
		dir  string // whose model.safetensors must stay untouched
	}{
		{"unknown env", []string{"train", "dqn", "--env", "pendulum-v1", "--out", t.TempDir()}, 1, "unknown environment", ""},
		{"zero steps", []string{"train", "dqn", "--steps", "0", "--out", t.TempDir()}, 2, "--steps must be positive", ""},
		{"negative batch", []string{"train", "dqn", "--batch", "-4", "--out", t.TempDir()}, 2, "--batch must be positive", ""},
		{"zero hidden", []string{"train", "dqn", "--hidden", "64,0", "--out", t.TempDir()}, 2, "width must be positive", ""},
		{"no out", []string{"train", "dqn"}, 2, "--out", ""},
		{"existing run", append(smallDQN, "--out", finished), 1, "already holds a run", finished},
		{"mismatched resume", []string{"train", "dqn", "--resume", "--out", finished, "--batch", "32"}, 1, "batch 16 (checkpoint) vs 32 (now)", finished},
		{"corrupt checkpoint", []string{"train", "dqn", "--resume", "--out", corrupt}, 1, "corrupt checkpoint", corrupt},
		{"truncated checkpoint", []string{"train", "dqn", "--resume", "--out", truncated}, 1, "corrupt checkpoint", truncated},
		{"resume without run", []string{"train", "dqn", "--resume", "--out", t.TempDir()}, 2, "holds no checkpoint", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runDQNCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if tc.dir != "" && !bytes.Equal(readDQNFile(t, filepath.Join(tc.dir, dqnModelFile)), model) {
				t.Errorf("%s was overwritten", dqnModelFile)
			}
		})
	}
}

func TestTrainNeedsSubcommand(t *testing.T) {
	code, _, errOut := runDQNCLI(t, "train")
	if code != 2 || !strings.Contains(errOut, "dqn") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
