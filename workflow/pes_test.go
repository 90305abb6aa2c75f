package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/learn"
)

// A saved network reloads with learning off and gives the learned run's
// test RMSE bit for bit (same ensembles, weights and initial voltages);
// learning lowers the test error below the untrained network's.
func TestLearnPESSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pes.safetensors")
	cfg := learn.DefaultChannelConfig()
	cfg.Seed = 3
	learned, err := LearnPES(PESOptions{Config: cfg, Duration: 2, TestDuration: 0.5, Settle: 0.1, Freq: 1, Save: path})
	if err != nil {
		t.Fatal(err)
	}
	if learned.LearnSteps != 2000 || learned.TestSteps != 500 || learned.Saved != path || learned.Seed != 3 {
		t.Fatalf("learned run: %+v", learned)
	}
	if !(learned.TestRMSE < learned.UntrainedRMSE) {
		t.Errorf("test RMSE %v after learning, untrained %v", learned.TestRMSE, learned.UntrainedRMSE)
	}
	loaded, err := LearnPES(PESOptions{Config: learn.DefaultChannelConfig(), TestDuration: 0.5, Settle: 0.1, Freq: 1, Load: path})
	if err != nil {
		t.Fatal(err)
	}
	if loaded.TestRMSE != learned.TestRMSE || loaded.Seed != 3 || loaded.LearnSteps != 0 || loaded.Loaded != path {
		t.Errorf("loaded: %+v; want the learned run's test RMSE %v", loaded, learned.TestRMSE)
	}
}

// ReadChannelConfig takes the file's settings except those kept; reg
// always comes from the file.
func TestReadChannelConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.json")
	if err := os.WriteFile(path, []byte(`{"pre_neurons": 30, "seed": 9, "reg": 0.2, "dt": 0.002}`), 0o644); err != nil {
		t.Fatal(err)
	}
	c := learn.DefaultChannelConfig()
	c.Seed = 5
	if err := ReadChannelConfig(path, &c, func(key string) bool { return key == "seed" }); err != nil {
		t.Fatal(err)
	}
	want := learn.DefaultChannelConfig()
	want.PreNeurons, want.Seed, want.Reg, want.Dt = 30, 5, 0.2, 0.002
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if err := os.WriteFile(path, []byte(`{"seed": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadChannelConfig(path, &c, func(string) bool { return false }); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad JSON: %v, want an error naming %s", err, path)
	}
}
