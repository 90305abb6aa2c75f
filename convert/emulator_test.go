package convert

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/internal/testfixtures"
)

// A converted regression network approaches the ANN's output as T grows:
// the rate error of an IF neuron with subtractive reset is at most
// threshold/T per layer, so the error shrinks roughly like 1/T.
func TestRegressorConvergesToANN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := []int{3, 16, 16, 2}
	net := testfixtures.RandomMLP(t, rng, sizes, testfixtures.MLPInit{FanInScaled: true, BiasStd: 0.1})
	calib := States{Width: 3}
	for i := 0; i < 300; i++ {
		calib.Data = append(calib.Data, float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64()))
	}
	s, _, err := ConvertRegression(net, calib, BaselineOptions(64))
	if err != nil {
		t.Fatal(err)
	}
	wsp := net.NewWorkspace(1)
	meanErr := func(T int) float64 {
		r, err := NewRegressor(s, T)
		if err != nil {
			t.Fatal(err)
		}
		ann, out := make([]float32, 2), make([]float32, 2)
		sum := 0.0
		for i := 0; i < calib.Rows(); i++ {
			x := calib.Row(i)
			net.Forward(ann, x, wsp)
			if err := r.Predict(out, x); err != nil {
				t.Fatal(err)
			}
			sum += math.Abs(float64(out[0]-ann[0])) + math.Abs(float64(out[1]-ann[1]))
		}
		return sum / float64(2*calib.Rows())
	}
	e16, e256 := meanErr(16), meanErr(256)
	if !(e256 < e16/4) || e256 > 0.05 {
		t.Errorf("mean |SNN - ANN| %.4f at T=16, %.4f at T=256: want a ~1/T decrease to < 0.05", e16, e256)
	}
	if _, err := NewRegressor(s, 0); err == nil {
		t.Error("T = 0 accepted")
	}
}
