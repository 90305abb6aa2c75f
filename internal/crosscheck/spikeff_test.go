package crosscheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/train"
)

// A spiking forward model as train simulates it (and trains it) is the
// network ConvertRegression builds with unit scales, run by snn/: the same
// outputs at every T.
func TestUnitConversionIsTrainsSpikingForwardModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sizes := []int{4, 12, 10, 3}
	var ws, bs [][]float32
	for l := 0; l+1 < len(sizes); l++ {
		w := make([]float32, sizes[l]*sizes[l+1])
		for i := range w {
			w[i] = float32(rng.NormFloat64() / math.Sqrt(float64(sizes[l])))
		}
		b := make([]float32, sizes[l+1])
		for i := range b {
			b[i] = float32(0.3 + 0.2*rng.NormFloat64())
		}
		ws, bs = append(ws, w), append(bs, b)
	}
	net, err := model.MLP(sizes, ws, bs)
	if err != nil {
		t.Fatal(err)
	}
	opts := convert.BaselineOptions(32)
	opts.Normalization = convert.Unit
	s, _, err := convert.ConvertRegression(net, convert.States{Data: make([]float32, 4), Width: 4}, opts)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4)
	got, want := make([]float32, 3), make([]float32, 3)
	for _, T := range []int{1, 7, 32} {
		r, err := convert.NewRegressor(s, T)
		if err != nil {
			t.Fatal(err)
		}
		sim := train.SpikingForwardPredictor(net, T)
		for k := 0; k < 50; k++ {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			if err := r.Predict(got, x); err != nil {
				t.Fatal(err)
			}
			sim(want, x)
			for o := range got {
				if math.Abs(float64(got[o]-want[o])) > 1e-5 {
					t.Fatalf("T=%d, sample %d, output %d: snn %v, train's simulation %v", T, k, o, got[o], want[o])
				}
			}
		}
	}
}
