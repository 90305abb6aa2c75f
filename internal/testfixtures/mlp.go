package testfixtures

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// MLPInit says how RandomMLPWeights draws a layer of fan-in n: weights
// N(0, 1), divided by √n when FanInScaled, and biases BiasMean + BiasStd
// N(0, 1), each computed in float64 and rounded once to float32.
type MLPInit struct {
	FanInScaled       bool
	BiasMean, BiasStd float64
}

// RandomMLPWeights draws an MLP's weights and biases of sizes from rng,
// layer by layer: the (out, in) row-major weights, then the biases. The
// same rng state gives the same numbers on every machine.
func RandomMLPWeights(rng *rand.Rand, sizes []int, init MLPInit) (weights, biases [][]float32) {
	for l := 0; l+1 < len(sizes); l++ {
		w := make([]float32, sizes[l]*sizes[l+1])
		for i := range w {
			if init.FanInScaled {
				w[i] = float32(rng.NormFloat64() / math.Sqrt(float64(sizes[l])))
			} else {
				w[i] = float32(rng.NormFloat64())
			}
		}
		b := make([]float32, sizes[l+1])
		for i := range b {
			b[i] = float32(init.BiasMean + init.BiasStd*rng.NormFloat64())
		}
		weights, biases = append(weights, w), append(biases, b)
	}
	return weights, biases
}

// RandomMLP is model.MLP (ReLU hidden layers, identity output) over
// RandomMLPWeights.
func RandomMLP(t testing.TB, rng *rand.Rand, sizes []int, init MLPInit) *model.Network {
	t.Helper()
	ws, bs := RandomMLPWeights(rng, sizes, init)
	net, err := model.MLP(sizes, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	return net
}
