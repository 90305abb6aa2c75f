package workflow

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
)

// Record's file replays: the greedy network played again from the recorded
// initial states (env.Run, not Record) gives the recorded returns, and the
// rows are the episodes' steps.
func TestRecordReplays(t *testing.T) {
	policy := testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed2.pt")
	out := filepath.Join(t.TempDir(), "states.npz")
	res, err := Record(RecordOptions{Model: policy, Env: "cartpole-v1", Episodes: 3, Seed: 7, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := formats.ReadNPZ(out)
	if err != nil {
		t.Fatal(err)
	}
	inits := arrays["init_states"]
	rows, cols, err := inits.Matrix()
	if err != nil || rows != 3 || cols != 4 {
		t.Fatalf("init_states %v: %v", inits.Shape, err)
	}
	init := make([][]float64, rows)
	for i := range init {
		init[i] = inits.Data[i*cols : (i+1)*cols]
	}
	net, err := formats.LoadANN(policy)
	if err != nil {
		t.Fatal(err)
	}
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	played, err := env.Run(e, model.NewQPolicy(net), env.RunOptions{InitStates: init})
	if err != nil {
		t.Fatal(err)
	}
	steps := 0.0
	for i, r := range played.Returns {
		steps += r // CartPole pays 1 per step
		if got := arrays["returns"].Data[i]; got != r {
			t.Errorf("episode %d: recorded return %v, replayed %v", i, got, r)
		}
	}
	if res.States != int(steps) || arrays["states"].Shape[0] != int(steps) || res.Episodes != 3 {
		t.Errorf("result %+v, %v state rows; want %v rows from 3 episodes", res, arrays["states"].Shape, steps)
	}
}

// Bad options are errors that name the option and its value, not a flag.
func TestRecordOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		opts RecordOptions
		want string
	}{
		{RecordOptions{Env: "cartpole-v1", Episodes: 0}, "Episodes 0: want 1 to"},
		{RecordOptions{Env: "cartpole-v1", Episodes: 2, Epsilon: 1.5}, "Epsilon 1.5: want a share in 0..1"},
		{RecordOptions{Env: "pong", Episodes: 2}, "Env: "},
	} {
		c.opts.Out = filepath.Join(dir, "x.npz")
		_, err := Record(c.opts)
		var oe *OptionError
		if !errors.As(err, &oe) || !oe.Invalid || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: %v, want an invalid-option error starting %q", c.opts, err, c.want)
		}
	}
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := Record(RecordOptions{Model: missing, Env: "cartpole-v1", Episodes: 1, Out: filepath.Join(dir, "y.npz")}); err == nil ||
		!strings.Contains(err.Error(), missing) {
		t.Errorf("missing model: %v, want an error naming the file", err)
	}
}

// A front end names the options its own way; the cause stays wrapped.
func TestOptionErrorText(t *testing.T) {
	cause := errors.New("no such file")
	e := &OptionError{Msg: "{DaggerRounds} must be >= 0, {Resume} of x", Err: cause}
	if got := e.Error(); got != "DaggerRounds must be >= 0, Resume of x: no such file" {
		t.Errorf("Error() = %q", got)
	}
	flag := func(f string) string { return "--" + strings.ToLower(f) }
	if got := e.Text(flag); got != "--daggerrounds must be >= 0, --resume of x: no such file" {
		t.Errorf("Text = %q", got)
	}
	if !errors.Is(e, cause) {
		t.Error("the cause is not wrapped")
	}
}
