package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ClipFloorPredictor against a float64 closed form: every hidden
// activation clipped to [0, 1] and, with levels > 0, rounded to levels.
func TestClipFloorPredictorClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	sizes := []int{3, 6, 5, 2}
	ws, bs := randomMLPWeights(rng, sizes, false, 0.7, 0.5) // some activations above the clip
	net, err := MLP(sizes, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	clipped := 0
	for _, levels := range []int{0, 4, 32} {
		predict := ClipFloorPredictor(net, levels)
		for trial := 0; trial < 20; trial++ {
			x := []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
			h := []float64{float64(x[0]), float64(x[1]), float64(x[2])}
			for l := range ws {
				out := make([]float64, sizes[l+1])
				for o := range out {
					out[o] = float64(bs[l][o])
					for i := range h {
						out[o] += float64(ws[l][o*len(h)+i]) * h[i]
					}
					if l < len(ws)-1 {
						if out[o] > 1 {
							clipped++
						}
						out[o] = math.Min(math.Max(out[o], 0), 1)
						if levels > 0 {
							out[o] = math.Floor(out[o]*float64(levels)+0.5) / float64(levels)
						}
					}
				}
				h = out
			}
			got := make([]float32, 2)
			predict(got, x)
			for o := range got {
				if math.Abs(float64(got[o])-h[o]) > 1e-5 {
					t.Errorf("levels %d trial %d output %d: %v, closed form %v", levels, trial, o, got[o], h[o])
				}
			}
		}
	}
	if clipped == 0 {
		t.Error("no activation reached the clip: the test does not exercise it")
	}
}
