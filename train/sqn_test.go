package train

import (
	"errors"
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// sqnFixtures returns the shared fixtures directory: $SPIKEBRIDGE_FIXTURES,
// or ../shared/fixtures beside the directory holding go.mod.
func sqnFixtures(t testing.TB) string {
	return testfixtures.Dir(t)
}

// cartpoleStates draws n CartPole-like observations.
func cartpoleStates(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 99))
	scale := []float64{0.5, 0.8, 0.08, 0.8}
	x := make([]float32, n*4)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * scale[i%4])
	}
	return x
}

// TestSQNFileRunsInSNN writes networks as SNN model files, reads them back
// and runs them in snn/: the Q-values must equal the training forward's on
// 1000 states to 1e-5 (the acceptance bound; the two compute the same
// operations in the same order, so they agree exactly).
func TestSQNFileRunsInSNN(t *testing.T) {
	torchP, _ := torchSQN(t)
	randP := newSQNParams([]int{4, 64, 64, 2})
	randP.initDSQN(rand.New(rand.NewPCG(3, 4)))
	lif := SQNNeurons{Timesteps: 20, Threshold: 0.8, Leak: 0.9, Surrogate: SurrogateSuperSpike, SurrogateK: 100}
	for _, tc := range []struct {
		name string
		p    *sqnParams
		nr   SQNNeurons
	}{
		{"torch weights, DSQN neurons, T=18", torchP, dsqnNeurons},
		{"random init, IF, T=8", randP, SQNNeurons{Timesteps: 8, Threshold: 1, Leak: 1, Surrogate: SurrogateSuperSpike, SurrogateK: 100}},
		{"random init, LIF 0.9 threshold 0.8, T=20", randP, lif},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states := cartpoleStates(5, 1000)
			want := append([]float32(nil), newSQNNet(tc.p, tc.nr, 1000).forward(states, 1000)...)
			s, err := tc.p.snnNetwork(tc.nr)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "sqn.snn.safetensors")
			if err := formats.SaveSNN(path, s, formats.SNNMeta{}); err != nil {
				t.Fatal(err)
			}
			loaded, _, err := formats.LoadSNN(path)
			if err != nil {
				t.Fatal(err)
			}
			st := loaded.NewState(1000)
			got := make([]float32, 2000)
			if err := loaded.RunBatch(got, nil, states, 1000, st, 0); err != nil {
				t.Fatal(err)
			}
			maxErr := 0.0
			for i := range got {
				maxErr = max(maxErr, math.Abs(float64(got[i]-want[i])))
			}
			spikes := st.Counters.TotalSpikes()
			t.Logf("max |Q_snn - Q_train| = %g over 1000 states; %.1f spikes per decision", maxErr, float64(spikes)/1000)
			if maxErr > 1e-5 {
				t.Errorf("snn Q-values differ from the training forward by %g, want <= 1e-5", maxErr)
			}
			if spikes == 0 {
				t.Errorf("no spikes: the test would not exercise the hidden layers")
			}
		})
	}
}

// dsqnReference is sqn_torch.py's SQN.forward written out on DSQN's (in, out)
// tensors, in float64, with its strict Heaviside and optional biases.
func dsqnReference(ws [][]float64, shapes [][2]int, bs [][]float64, x []float64, T int) []float64 {
	L := len(ws)
	syn := make([][]float64, L)
	mem := make([][]float64, L)
	for l := range ws {
		syn[l] = make([]float64, shapes[l][1])
		mem[l] = make([]float64, shapes[l][1])
	}
	for range T {
		inp := x
		next := make([][]float64, L)
		for l := range ws {
			in, out := shapes[l][0], shapes[l][1]
			cur := make([]float64, out)
			for o := 0; o < out; o++ {
				for i := 0; i < in; i++ {
					cur[o] += inp[i] * ws[l][i*out+o]
				}
				if bs[l] != nil {
					cur[o] += bs[l][o]
				}
			}
			s := make([]float64, out)
			for o := range mem[l] {
				m := mem[l][o] + syn[l][o]
				if l < L-1 && m-1 > 0 {
					s[o] = 1
				}
				mem[l][o] = m - s[o]
			}
			next[l] = cur
			inp = s
		}
		syn = next
	}
	return mem[L-1]
}

// TestDSQNFixture loads the PyTorch-saved DSQN tuple layout
// ([W1, W2, W3], [b1, b2, None]) and runs it in DSQN-compatible mode.
func TestDSQNFixture(t *testing.T) {
	tf, err := formats.LoadTorch(filepath.Join(sqnFixtures(t), "pytorch", "dsqn_tuple_weights_biases.pt"))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := formats.TorchToNetwork(tf, formats.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := DSQNNetwork(imp.Network, 20, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sizes(); !reflect.DeepEqual(got, []int{4, 16, 16, 2}) || s.Timesteps != 18 {
		t.Fatalf("DSQN network %v at T=%d, want [4 16 16 2] at T=18 (DSQN's 20)", got, s.Timesteps)
	}
	// The raw tensors, (in, out), for the reference forward.
	var ws, bs [][]float64
	var shapes [][2]int
	for l := 0; l < 3; l++ {
		var w, b *formats.Tensor
		for k := range tf.Tensors {
			tt := &tf.Tensors[k]
			if reflect.DeepEqual(tt.Path, []string{"0", string(rune('0' + l))}) {
				w = tt
			}
			if reflect.DeepEqual(tt.Path, []string{"1", string(rune('0' + l))}) {
				b = tt
			}
		}
		if w == nil {
			t.Fatalf("no weight tensor for layer %d", l)
		}
		ws = append(ws, w.Values)
		shapes = append(shapes, [2]int{w.Shape[0], w.Shape[1]})
		if b != nil {
			bs = append(bs, b.Values)
		} else {
			bs = append(bs, nil)
		}
	}
	if bs[0] == nil || bs[1] == nil || bs[2] != nil {
		t.Fatalf("fixture biases present %v %v %v, want b1, b2 and None", bs[0] != nil, bs[1] != nil, bs[2] != nil)
	}
	states := cartpoleStates(11, 500)
	for i := range states {
		states[i] *= 4 // drive the small network hard enough to spike
	}
	st := s.NewState(1)
	q := make([]float32, 2)
	bad, maxErr := 0, 0.0
	for k := 0; k < 500; k++ {
		x := states[k*4 : (k+1)*4]
		x64 := []float64{float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])}
		want := dsqnReference(ws, shapes, bs, x64, 20)
		if _, err := s.Run(q, x, st, 0); err != nil {
			t.Fatal(err)
		}
		for o := range q {
			e := math.Abs(float64(q[o]) - want[o])
			maxErr = max(maxErr, e)
			if e > 1e-4 {
				bad++
			}
		}
	}
	perDecision := float64(st.Counters.TotalSpikes()) / 500
	t.Logf("max |Q - Q_DSQN| = %g, %d of 1000 values off by > 1e-4, %.1f spikes per decision", maxErr, bad, perDecision)
	if bad > 10 {
		t.Errorf("%d of 1000 Q-values differ from the DSQN reference by > 1e-4", bad)
	}
	if perDecision < 1 {
		t.Errorf("%.2f spikes per decision: the test does not exercise the hidden layers", perDecision)
	}
	// An output bias cannot be represented: refused with a message naming it.
	layers := imp.Network.Layers()
	last := layers[len(layers)-1]
	if last.Kind != model.Dense {
		last = layers[len(layers)-2]
	}
	withBias := make([]model.Layer, len(layers))
	copy(withBias, layers)
	for i := range withBias {
		if withBias[i].Name == last.Name {
			withBias[i].Bias = []float32{0, 0.5}
		}
	}
	nb, err := model.New(withBias)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DSQNNetwork(nb, 20, false); err == nil || !strings.Contains(err.Error(), "non-zero bias [1]") {
		t.Errorf("output bias: error %v, want one naming bias [1]", err)
	}
}

// TestDSQNBiasInputMatchesTorch runs sqn_torch.py's 5-input network (the
// constant 1 appended to the observation) in DSQN-compatible mode.
func TestDSQNBiasInputMatchesTorch(t *testing.T) {
	_, arrs := torchSQN(t)
	var weights, biases [][]float32
	sizes := []int{5, 64, 64, 2}
	for l, name := range []string{"W0", "W1", "W2"} {
		w := arrs[name]
		in, out := w.Shape[0], w.Shape[1]
		m := make([]float32, in*out)
		for i := 0; i < in; i++ {
			for o := 0; o < out; o++ {
				m[o*in+i] = float32(w.Data[i*out+o])
			}
		}
		weights = append(weights, m)
		biases = append(biases, nil)
		_ = l
	}
	net, err := model.MLP(sizes, weights, biases)
	if err != nil {
		t.Fatal(err)
	}
	s, err := DSQNNetwork(net, 20, true)
	if err != nil {
		t.Fatal(err)
	}
	states := arrs["states"].Float32s()
	want := arrs["q"].Float32s()
	got := make([]float32, len(want))
	if err := s.RunBatch(got, nil, states, 1000, s.NewState(1000), 0); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-4 {
			bad++
		}
	}
	if bad > len(got)/100 {
		t.Errorf("%d of %d Q-values differ from torch's by > 1e-4", bad, len(got))
	}
	if _, err := DSQNNetwork(net, 2, true); err == nil {
		t.Error("T = 2 accepted")
	}
}

func TestSQNConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		change func(*SQNConfig)
		want   string
	}{
		{func(c *SQNConfig) { c.Timesteps = 0 }, "timesteps"},
		{func(c *SQNConfig) { c.Threshold = 0 }, "threshold"},
		{func(c *SQNConfig) { c.Leak = 1.5 }, "leak"},
		{func(c *SQNConfig) { c.Surrogate = "tanh" }, "surrogate"},
		{func(c *SQNConfig) { c.SurrogateK = math.Inf(1) }, "surrogate_k"},
		{func(c *SQNConfig) { c.GradClip = -1 }, "grad_clip"},
		{func(c *SQNConfig) { c.Batch = 0 }, "batch"},
	} {
		c := DefaultSQNConfig()
		tc.change(&c)
		var se *SettingError
		if err := c.Validate(); !errors.As(err, &se) || se.Setting != tc.want {
			t.Errorf("%s: error %v, want a SettingError naming it", tc.want, err)
		}
	}
	if err := DefaultSQNConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func smallSQNConfig() SQNConfig {
	c := DefaultSQNConfig()
	c.Steps, c.Warmup, c.Batch, c.Hidden, c.Timesteps = 1200, 300, 16, []int{16, 16}, 8
	c.KeepBestEvery, c.KeepBestEps, c.EvalEpisodes, c.CheckpointEvery = 400, 2, 3, 0
	return c
}

// TestSQNResumeIsExact stops a run, checkpoints, resumes and compares with an
// uninterrupted run: parameters, metrics and the kept network bit for bit.
func TestSQNResumeIsExact(t *testing.T) {
	cfg := smallSQNConfig()
	full, err := NewSQNTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Run(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	part, err := NewSQNTrainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := part.Run(context.Background(), RunOptions{StopAt: 700}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.bin")
	if err := part.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	resumed, err := ResumeSQNTrainer(cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.Run(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(full.online.tensors(), resumed.online.tensors()) {
		t.Error("resumed parameters differ from the uninterrupted run's")
	}
	if !reflect.DeepEqual(full.best.tensors(), resumed.best.tensors()) || full.bestStep != resumed.bestStep {
		t.Error("resumed kept network differs from the uninterrupted run's")
	}
	if len(full.metrics) != len(resumed.metrics) || full.updates != resumed.updates {
		t.Errorf("metrics %d rows / %d updates, resumed %d / %d", len(full.metrics), full.updates, len(resumed.metrics), resumed.updates)
	}
	other := cfg
	other.Timesteps = 9
	if _, err := ResumeSQNTrainer(other, path); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("resume with other T: error %v", err)
	}
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 1
	os.WriteFile(path, data, 0o644)
	if _, err := ResumeSQNTrainer(cfg, path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupt checkpoint: error %v, want a checksum mismatch", err)
	}
	res, kept, _, err := full.Finish(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Timesteps != 8 || res.EvalEpisodes != 3 || res.Updates != 900 {
		t.Errorf("Finish: T %d, %d eval episodes, %d updates; want 8, 3, 900", kept.Timesteps, res.EvalEpisodes, res.Updates)
	}
	_ = snn.NextStep
}
