package train

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkDQNUpdate times one DQN update at batch 64 on the default
// 4-64-64-2 network: replay sampling, plain-Go target forward, the Gorgonia
// loss and gradient graph, and Adam, with µs and allocations per update.
// PyTorch's update takes 439-474 µs on a quiet machine of this kind
// (bench/dqn_vs_torch.sh, mlp_torch_throughput.py --threads 1).
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
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "µs/update")
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

// BenchmarkLossGraph times one run of the DQN loss-and-gradient graph
// (4-64-64-2, batch 64, Huber) on the graph runner and on Gorgonia's
// TapeMachine, which executes the same ops but locks the OS thread and
// starts a goroutine every RunAll.
func BenchmarkLossGraph(b *testing.B) {
	for _, tape := range []bool{false, true} {
		name := "runner"
		if tape {
			name = "tapemachine"
		}
		b.Run(name, func(b *testing.B) {
			p := newQParams([]int{4, 64, 64, 2})
			p.initTorchDefault(rand.New(rand.NewPCG(1, 1)))
			lg, err := newLossGraph(p, 64, "huber")
			if err != nil {
				b.Fatal(err)
			}
			lg.useTape = tape
			rng := rand.New(rand.NewPCG(2, 2))
			obs := make([]float32, 64*4)
			for i := range obs {
				obs[i] = float32(rng.NormFloat64())
			}
			actions := make([]int, 64)
			targets := make([]float32, 64)
			for i := range actions {
				actions[i] = rng.IntN(2)
				targets[i] = float32(rng.NormFloat64())
			}
			lg.setInputs(obs, actions, targets)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := lg.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
