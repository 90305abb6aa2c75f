package workflow

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/train"
)

func tinyDQNConfig() train.Config {
	cfg := train.DefaultConfig()
	cfg.Steps, cfg.Warmup, cfg.EvalEpisodes, cfg.KeepBestEvery, cfg.CheckpointEvery = 600, 100, 2, 0, 300
	cfg.Hidden, cfg.Seed = []int{8}, 5
	return cfg
}

// A run directory: TrainDQN writes it, refuses to start over it, resumes it
// with config.json's settings except those named in Set, and a cancelled
// context leaves a checkpoint to resume from.
func TestTrainDQNRunDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := tinyDQNConfig()
	res, used, err := TrainDQN(context.Background(), TrainDQNOptions{Config: cfg, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 600 || used.Steps != 600 {
		t.Errorf("steps: result %d, config %d", res.Steps, used.Steps)
	}
	for _, f := range []string{DQNModelFile, DQNFinalFile, DQNMetricsFile, DQNCurveFile, DQNConfigFile, DQNCheckpointFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}

	_, _, err = TrainDQN(context.Background(), TrainDQNOptions{Config: cfg, Out: dir})
	var exists *RunExistsError
	if !errors.As(err, &exists) || exists.Dir != dir || exists.File != DQNCheckpointFile {
		t.Errorf("second fresh run: %v, want a RunExistsError naming %s", err, DQNCheckpointFile)
	}

	// Steps given again (set), the learning rate not: config.json's stays.
	more := cfg
	more.Steps, more.LR = 900, 0.5
	resumed, err := ResumeConfig(dir, more, map[string]bool{"steps": true, "threads": true})
	if err != nil || resumed.Steps != 900 || resumed.LR != cfg.LR || resumed.Seed != cfg.Seed {
		t.Fatalf("ResumeConfig: %v, steps %d, lr %v (saved %v)", err, resumed.Steps, resumed.LR, cfg.LR)
	}
	// The finished run resumed (the checkpoint refuses other steps) ends
	// at once, with the saved learning rate, not the one given.
	more.Steps = 600
	res, used, err = TrainDQN(context.Background(), TrainDQNOptions{Config: more, Out: dir, Resume: true, Set: map[string]bool{"steps": true}})
	if err != nil || res.ResumedAt != 600 || res.Steps != 600 || used.LR != cfg.LR {
		t.Fatalf("resumed run: %v, resumed at %d, %d steps, lr %v", err, res.ResumedAt, res.Steps, used.LR)
	}

	// A cancelled run stops with its checkpoint written.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = TrainDQN(ctx, TrainDQNOptions{Config: cfg, Out: filepath.Join(t.TempDir(), "stopped")})
	var stopped *InterruptedError
	if !errors.As(err, &stopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v, want an InterruptedError", err)
	}
	if _, err := os.Stat(stopped.Checkpoint); err != nil {
		t.Errorf("checkpoint of the stopped run: %v", err)
	}

	if _, err := ResumeConfig(filepath.Join(t.TempDir(), "none"), cfg, nil); !errors.As(err, new(*ResumeError)) {
		t.Errorf("ResumeConfig without config.json: %v, want a ResumeError", err)
	}
}
