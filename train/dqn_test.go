package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func smallConfig() Config {
	c := DefaultConfig()
	c.Steps, c.Hidden, c.Batch, c.Buffer = 1500, []int{16, 16}, 16, 1000
	c.Warmup, c.EpsSteps, c.KeepBestEvery, c.KeepBestEps, c.EvalEpisodes = 100, 500, 500, 3, 3
	c.CheckpointEvery = 0
	return c
}

// Adam's first step moves every parameter by lr * g/(|g| + eps) against the
// gradient (bias-corrected moments equal g and g²); the second step with the
// same gradient again by lr * mhat/(sqrt(vhat)+eps) = lr (closed form).
func TestAdamClosedForm(t *testing.T) {
	p := [][]float32{{1, -2, 0.5}}
	g := [][]float32{{0.3, -4, 1e-3}}
	a := newAdam(p)
	a.update(p, g, 0.01)
	want := []float64{1 - 0.01, -2 + 0.01, 0.5 - 0.01*1e-3/(1e-3+1e-8)}
	for i := range want {
		if math.Abs(float64(p[0][i])-want[i]) > 1e-6 {
			t.Errorf("after step 1: p[%d] = %v, want %v", i, p[0][i], want[i])
		}
	}
	a.update(p, g, 0.01)
	for i := range want {
		want[i] -= 0.01 * math.Copysign(1, float64(g[0][i])) * (1 - 1e-8/float64(abs32(g[0][i])))
		if math.Abs(float64(p[0][i])-want[i]) > 2e-6 {
			t.Errorf("after step 2: p[%d] = %v, want %v", i, p[0][i], want[i])
		}
	}
}

func abs32(x float32) float32 { return float32(math.Abs(float64(x))) }

func TestEpsilonAndLearningRateSchedules(t *testing.T) {
	tr := &qLearning[*qParams]{loopCfg: Config{EpsStart: 1, EpsEnd: 0.05, EpsSteps: 10000, LR: 1e-3, LRFinal: 1e-4, Steps: 50000}}
	for _, tc := range []struct {
		step    int64
		eps, lr float64
	}{{1, 1, 1e-3}, {5001, 0.525, 1e-3 - 0.9e-3*0.1}, {10001, 0.05, 1e-3 - 0.9e-3*0.2}, {50000, 0.05, 1e-3 - 0.9e-3*49999/50000}} {
		if got := tr.epsilon(tc.step); math.Abs(got-tc.eps) > 1e-12 {
			t.Errorf("epsilon(%d) = %v, want %v", tc.step, got, tc.eps)
		}
		if got := tr.learningRate(tc.step); math.Abs(got-tc.lr) > 1e-15 {
			t.Errorf("learningRate(%d) = %v, want %v", tc.step, got, tc.lr)
		}
	}
}

// The TD targets fed to the graph are r + gamma (1 - terminated) max Q_target
// (or Q_target at the online argmax for Double DQN), recomputed here from
// independent forward passes.
func TestUpdateTargets(t *testing.T) {
	for _, double := range []bool{false, true} {
		cfg := smallConfig()
		cfg.Double = double
		cfg.Tau = 0 // a soft update would move the target after the targets were computed
		tr, err := NewTrainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fillReplay(tr, 300)
		tr.target.initTorchDefault(tr.actRNG) // make target and online differ
		tr.paramsChanged()
		if _, err := tr.update(1e-3); err != nil {
			t.Fatal(err)
		}
		b := tr.batch
		target := tr.target.snapshot()
		for s := 0; s < b.Size; s++ {
			next := b.NextObs[s*4 : s*4+4]
			qt := make([]float32, 2)
			target.network().Forward(qt, next, target.network().NewWorkspace(1))
			var v float32
			if double {
				// The online net was updated after the targets were computed;
				// use the Q-values the trainer kept from before the update.
				v = qt[argmax2(tr.qNextOnline[s*2:s*2+2])]
			} else {
				v = max(qt[0], qt[1])
			}
			want := b.Rewards[s] + float32(cfg.Gamma)*(1-b.Terminated[s])*v
			if b.Terminated[s] == 1 {
				want = b.Rewards[s] // termination does not bootstrap
			}
			if math.Abs(float64(tr.targets[s]-want)) > 1e-5 {
				t.Errorf("double=%v sample %d: target %v, want %v", double, s, tr.targets[s], want)
			}
		}
	}
}

func argmax2(v []float32) int {
	if v[1] > v[0] {
		return 1
	}
	return 0
}

// Checkpoint in the middle, resume in a new trainer, finish: every weight,
// metric and counter equals the uninterrupted run's.
func TestCheckpointResumeIsExact(t *testing.T) {
	cfg := smallConfig()
	ref, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Run(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "ck.bin")
	first, _ := NewTrainer(cfg)
	// Stop mid-episode, after keep-best and updates began.
	if err := first.Run(context.Background(), RunOptions{StopAt: 777}); err != nil {
		t.Fatal(err)
	}
	if err := first.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	second, err := ResumeTrainer(cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Run(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	for k, w := range ref.online.tensors() {
		for i, v := range w {
			if math.Float32bits(v) != math.Float32bits(second.online.tensors()[k][i]) {
				t.Fatalf("tensor %d [%d]: %v after resume, %v uninterrupted", k, i, second.online.tensors()[k][i], v)
			}
		}
	}
	if len(ref.metrics) != len(second.metrics) || ref.bestStep != second.bestStep || ref.updates != second.updates {
		t.Fatalf("metrics %d vs %d, best step %d vs %d, updates %d vs %d",
			len(second.metrics), len(ref.metrics), second.bestStep, ref.bestStep, second.updates, ref.updates)
	}
}

func TestResumeRejectsBadCheckpoints(t *testing.T) {
	cfg := smallConfig()
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.bin")
	tr, _ := NewTrainer(cfg)
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	other := cfg
	other.Gamma = 0.9
	if _, err := ResumeTrainer(other, path); err == nil || !strings.Contains(err.Error(), "gamma 0.99 (checkpoint) vs 0.9 (now)") {
		t.Errorf("mismatched config: %v", err)
	}
	good, _ := os.ReadFile(path)
	for name, data := range map[string][]byte{
		"flipped byte": func() []byte { d := append([]byte(nil), good...); d[len(d)/3] ^= 1; return d }(),
		"truncated":    good[:len(good)-7],
		"empty":        nil,
		"foreign":      []byte("PK\x03\x04 not a checkpoint at all, just some bytes"),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		if _, err := ResumeTrainer(cfg, p); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("%s: err = %v, want ErrCorruptCheckpoint", name, err)
		}
	}
	if _, err := ResumeTrainer(cfg, filepath.Join(dir, "missing.bin")); err == nil {
		t.Error("missing checkpoint: want error")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"ok", func(*Config) {}, ""},
		{"steps", func(c *Config) { c.Steps = 0 }, "steps"},
		{"buffer", func(c *Config) { c.Buffer = -1 }, "buffer"},
		{"batch", func(c *Config) { c.Batch = 0 }, "batch"},
		{"hidden", func(c *Config) { c.Hidden = []int{64, -1} }, "hidden"},
		{"no hidden", func(c *Config) { c.Hidden = nil }, "hidden"},
		{"loss", func(c *Config) { c.Loss = "l1" }, "loss"},
		{"gamma", func(c *Config) { c.Gamma = 1.5 }, "gamma"},
		{"lr", func(c *Config) { c.LR = 0 }, "lr"},
		{"lr nan", func(c *Config) { c.LR = math.NaN() }, "lr"},
		{"tau", func(c *Config) { c.Tau = -0.1 }, "tau"},
		{"warmup", func(c *Config) { c.Warmup = -5 }, "warmup"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	c := DefaultConfig()
	c.Env = "mountaincar-v0"
	if _, err := NewTrainer(c); err == nil || !strings.Contains(err.Error(), "unknown environment") {
		t.Errorf("unknown env: %v", err)
	}
}

// The acting network and the batch forward must follow every parameter
// change (the model's kernels read a transposed copy that Refresh rebuilds):
// after updates and soft target steps they agree with freshly built networks.
func TestActingNetworksFollowUpdates(t *testing.T) {
	cfg := smallConfig()
	tr, err := NewTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background(), RunOptions{StopAt: 400}); err != nil {
		t.Fatal(err)
	}
	obs := []float32{0.01, -0.2, 0.03, 0.4}
	for _, pair := range []struct {
		name      string
		shared    *qParams
		sharedNet func() []float32
	}{
		{"online", tr.online, func() []float32 {
			q := make([]float32, 2)
			tr.onlineNet.Forward(q, obs, tr.onlineNet.NewWorkspace(1))
			return q
		}},
		{"target", tr.target, func() []float32 {
			x := make([]float32, cfg.Batch*4)
			for s := 0; s < cfg.Batch; s++ {
				copy(x[s*4:], obs)
			}
			q := make([]float32, cfg.Batch*2)
			tr.forward.run(q, tr.target, x)
			return q[(cfg.Batch-1)*2:]
		}},
	} {
		fresh := pair.shared.snapshot().network()
		want := make([]float32, 2)
		fresh.Forward(want, obs, fresh.NewWorkspace(1))
		if got := pair.sharedNet(); got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s network gives %v, a freshly built one %v", pair.name, got, want)
		}
	}
}

// The batch forward in the graph's layout gives the very bits of
// model.Network.Forward on each sample (same FMA order, bias last).
func TestBatchForwardMatchesModel(t *testing.T) {
	for _, sizes := range [][]int{{4, 64, 64, 2}, {6, 20, 9, 3}, {3, 5, 7}} {
		const batch = 37
		p := newQParams(sizes)
		p.initTorchDefault(rand.New(rand.NewPCG(11, uint64(len(sizes)))))
		rng := rand.New(rand.NewPCG(12, 13))
		in, out := sizes[0], sizes[len(sizes)-1]
		x := make([]float32, batch*in)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		got := make([]float32, batch*out)
		newBatchForward(sizes, batch).run(got, p, x)
		net := p.network()
		ws := net.NewWorkspace(1)
		want := make([]float32, out)
		for s := 0; s < batch; s++ {
			net.Forward(want, x[s*in:(s+1)*in], ws)
			for a := range want {
				if math.Float32bits(got[s*out+a]) != math.Float32bits(want[a]) {
					t.Fatalf("%v sample %d action %d: batch forward %v, model %v", sizes, s, a, got[s*out+a], want[a])
				}
			}
		}
	}
}
