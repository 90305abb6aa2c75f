package train

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkClassifierEpoch times one epoch of clip-floor distillation over
// 16384 CartPole-sized states, per mini-batch size.
func BenchmarkClassifierEpoch(b *testing.B) {
	const n, width = 16384, 4
	rng := rand.New(rand.NewPCG(1, 2))
	states := make([]float32, n*width)
	labels := make([]int, n)
	for i := range states {
		states[i] = float32(rng.NormFloat64())
	}
	for i := range labels {
		if states[i*width+2]+states[i*width+3] > 0 {
			labels[i] = 1
		}
	}
	for _, batch := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			cfg := DefaultClassifierConfig()
			cfg.Epochs, cfg.Batch, cfg.ClipFloor = 1, batch, 16
			for b.Loop() {
				if _, _, err := TrainClassifier(states, width, labels, 2, cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
