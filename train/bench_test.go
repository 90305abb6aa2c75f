package train

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkDQNUpdate times one DQN update at batch 64 on the default
// 4-64-64-2 network: replay sampling, plain-Go target forward, the Gorgonia
// loss and gradient graph, and Adam. PyTorch's update takes 474 µs on this
// kind of machine (mlp_torch_throughput.py --threads 1).
func BenchmarkDQNUpdate(b *testing.B) {
	for _, double := range []bool{false, true} {
		name := "plain"
		if double {
			name = "double"
		}
		b.Run(name, func(b *testing.B) {
			cfg := ReferenceConfig()
			cfg.Double = double
			tr, err := NewTrainer(cfg)
			if err != nil {
				b.Fatal(err)
			}
			fillReplay(tr, 5000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tr.update(1e-4); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fillReplay stores n random-policy transitions.
func fillReplay(tr *Trainer, n int) {
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < n; i++ {
		a := rng.IntN(2)
		res, _ := tr.env.Step(a)
		tr.buf.Add(tr.obs, a, float32(res.Reward), res.Obs, res.Terminated)
		tr.obs = append(tr.obs[:0], res.Obs...)
		if res.Terminated || res.Truncated {
			tr.obs = append(tr.obs[:0], tr.env.Reset()...)
		}
	}
}

// BenchmarkTrainLoop times env steps of the whole training loop (reference
// settings, after warm-up): acting, env, replay and one update per step.
func BenchmarkTrainLoop(b *testing.B) {
	cfg := ReferenceConfig()
	cfg.Warmup = 0
	cfg.Steps = 1 << 30
	tr, err := NewTrainer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	fillReplay(tr, 1000)
	b.ResetTimer()
	tr.cfg.Steps = b.N
	tr.step = 0
	if err := tr.Run(context.Background(), RunOptions{}); err != nil {
		b.Fatal(err)
	}
}
