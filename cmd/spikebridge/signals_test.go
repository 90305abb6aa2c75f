package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
)

// TestSignalHelperProcess is not a test: it is the child process of the
// signal tests, running as main does (signal handler installed). With
// SPIKEBRIDGE_SIGNAL_HELPER=write it writes args[0] atomically through a
// writer that creates args[1] and then blocks, so the parent can signal it
// in the middle of the write.
func TestSignalHelperProcess(t *testing.T) {
	mode := os.Getenv("SPIKEBRIDGE_SIGNAL_HELPER")
	if mode == "" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	stop := handleSignals(os.Stderr)
	if mode == "write" {
		err := formats.WriteFileAtomic(args[0], func(w io.Writer) error {
			if _, err := w.Write(make([]byte, 1<<20)); err != nil {
				return err
			}
			if err := os.WriteFile(args[1], nil, 0o644); err != nil {
				return err
			}
			time.Sleep(30 * time.Second)
			return errors.New("not interrupted")
		})
		os.Stderr.WriteString(err.Error())
		os.Exit(3)
	}
	code := execute(args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func signalHelper(t *testing.T, mode string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestSignalHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SPIKEBRIDGE_SIGNAL_HELPER="+mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

func waitFor(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s did not appear within %v", path, within)
}

// SIGINT and SIGTERM in the middle of an atomic write remove its temporary
// file and exit with 128 + the signal's number (probe generate, record,
// convert ... all write this way).
func TestSignalRemovesTempFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		marker := filepath.Join(dir, "writing")
		cmd, stderr := signalHelper(t, "write", filepath.Join(dir, "probe.npz"), marker)
		waitFor(t, marker, 20*time.Second)
		if m, _ := filepath.Glob(filepath.Join(dir, ".probe.npz.tmp-*")); len(m) != 1 {
			t.Fatalf("%v: %d temporary files while writing, want 1", sig, len(m))
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 128+int(sig) {
			t.Fatalf("%v: %v, want exit %d; stderr: %s", sig, err, 128+int(sig), stderr)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || entries[0].Name() != "writing" {
			t.Fatalf("%v: directory holds %v after the signal, want only the marker", sig, entries)
		}
		if !strings.Contains(stderr.String(), "1 temporary files removed") {
			t.Errorf("%v: stderr %q", sig, stderr)
		}
	}
}

// SIGTERM, like Ctrl-C, stops train dqn with a checkpoint (even before the
// first periodic one) from which --resume finishes the run.
func TestTrainDQNSIGTERMCheckpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	args := []string{"train", "dqn", "--steps", "200000", "--seed", "3", "--hidden", "16", "--batch", "16",
		"--warmup", "100", "--keep-best-every", "0", "--eval-episodes", "2", "--checkpoint-every", "0", "--out", dir}
	cmd, stderr := signalHelper(t, "run", args...)
	waitFor(t, filepath.Join(dir, dqnConfigFile), 20*time.Second)
	time.Sleep(300 * time.Millisecond) // into the training loop
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("%v, want exit 1 (interrupted); stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "checkpoint written") || !strings.Contains(stderr.String(), "--resume") {
		t.Fatalf("stderr does not say where the checkpoint is: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, dqnCheckpointFile)); err != nil {
		t.Fatalf("SIGTERM left no checkpoint: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(m) != 0 {
		t.Fatalf("temporary files left: %v", m)
	}
	// The checkpoint is a real one: the trainer resumes from it inside the run.
	raw, err := os.ReadFile(filepath.Join(dir, dqnConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	var cfg train.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	tr, err := train.ResumeTrainer(cfg, filepath.Join(dir, dqnCheckpointFile))
	if err != nil {
		t.Fatalf("the SIGTERM checkpoint does not resume: %v", err)
	}
	if tr.Step() <= 0 || tr.Step() >= 200000 {
		t.Fatalf("checkpoint at step %d, want one inside the run", tr.Step())
	}
	t.Logf("SIGTERM at step %d", tr.Step())
}
