package train

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSQNUpdate times one training update (batch 64, T = 20, 4-64-64-2:
// two target forwards, the recorded forward, BPTT, clamp, Adam), the figure
// sqn_torch.py reports as ms_per_update.
func BenchmarkSQNUpdate(b *testing.B) {
	cfg := DefaultSQNConfig()
	cfg.Warmup = 0
	tr, err := NewSQNTrainer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	obs, next := make([]float32, 4), make([]float32, 4)
	for i := 0; i < 5000; i++ {
		for j := range obs {
			obs[j] = float32(rng.NormFloat64() * 0.5)
			next[j] = float32(rng.NormFloat64() * 0.5)
		}
		tr.buf.Add(obs, rng.IntN(2), 1, next, rng.IntN(20) == 0)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.learn(1e-3)
	}
}
