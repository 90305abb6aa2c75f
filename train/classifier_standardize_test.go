package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// The first layer rewritten for standardized inputs computes, on (x - mean)
// / scale, what it computed on x; folding it back restores the weights.
func TestStandardizeFirstLayerIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := newQParams([]int{3, 5, 2})
	p.initTorchDefault(rng)
	w0 := append([]float32(nil), p.weights[0]...)
	b0 := append([]float32(nil), p.biases[0]...)
	x := []float32{0.02, -1.5, 40, -0.03, 2.5, 10, 0.01, 0, 25}
	mean, scale := columnMoments(x, 3)
	// Column moments in closed form: column 0 is {0.02, -0.03, 0.01}.
	if m := (0.02 - 0.03 + 0.01) / 3.0; math.Abs(mean[0]-m) > 1e-9 {
		t.Errorf("mean of column 0: %v, want %v", mean[0], m)
	}
	if v := ((0.02-0)*(0.02-0) + (-0.03)*(-0.03) + 0.01*0.01) / 3; math.Abs(scale[0]-math.Sqrt(v)) > 1e-8 {
		t.Errorf("scale of column 0: %v, want %v", scale[0], math.Sqrt(v))
	}
	p.standardizeFirstLayer(mean, scale)
	xs := standardized(x, mean, scale)
	for r := 0; r < 3; r++ {
		for o := 0; o < 5; o++ {
			var raw, std float64 = float64(b0[o]), float64(p.biases[0][o])
			for i := 0; i < 3; i++ {
				raw += float64(w0[o*3+i]) * float64(x[r*3+i])
				std += float64(p.weights[0][o*3+i]) * float64(xs[r*3+i])
			}
			if math.Abs(raw-std) > 1e-4*(1+math.Abs(raw)) {
				t.Errorf("row %d neuron %d: %v on raw inputs, %v standardized", r, o, raw, std)
			}
		}
	}
	p.unstandardizeFirstLayer(mean, scale)
	for i := range w0 {
		if math.Abs(float64(w0[i]-p.weights[0][i])) > 1e-5 {
			t.Fatalf("weight %d: %v after the round trip, was %v", i, p.weights[0][i], w0[i])
		}
	}
	for o := range b0 {
		if math.Abs(float64(b0[o]-p.biases[0][o])) > 1e-4 {
			t.Fatalf("bias %d: %v after the round trip, was %v", o, p.biases[0][o], b0[o])
		}
	}
}

// A boundary that depends on a column 100x smaller than the other (as
// CartPole's pole angle against its velocities) is learnt in few epochs with
// standardized inputs, and the returned network takes raw inputs.
func TestTrainClassifierStandardize(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	n := 1000
	states := make([]float32, 2*n)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		a, b := 0.01*(2*rng.Float64()-1), 2*rng.Float64()-1
		states[2*i], states[2*i+1] = float32(a+5), float32(b)
		if a/0.01+0.3*b > 0 {
			labels[i] = 1
		}
	}
	cfg := ClassifierConfig{Hidden: []int{16, 16}, Epochs: 10, Batch: 32, LR: 3e-3, LRFinal: 1e-4, Seed: 2, Standardize: true}
	net, res, err := TrainClassifier(states, 2, labels, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ws := net.NewWorkspace(1)
	out := make([]float32, 2)
	correct := 0
	for i, l := range labels {
		net.Forward(out, states[2*i:2*i+2], ws)
		if model.Argmax(out) == l {
			correct++
		}
	}
	acc := float64(correct) / float64(n)
	if acc < 0.97 || math.Abs(acc-res.Accuracy) > 1e-9 {
		t.Errorf("standardized: accuracy %.4f of the returned network on raw inputs (reported %.4f), want >= 0.97 and equal", acc, res.Accuracy)
	}
	cfg.Standardize = false
	if _, plain, err := TrainClassifier(states, 2, labels, 2, cfg); err != nil || plain.Accuracy >= acc {
		t.Errorf("raw inputs: accuracy %.4f (%v), want below the standardized %.4f", plain.Accuracy, err, acc)
	}
}
