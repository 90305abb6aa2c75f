package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// With clip-floor levels the graph's loss is the rounded network's masked
// MSE (plain Go), and its gradients are the straight-through closed form:
// the rounded activations forward, the clip's derivative 1[0 < z < 1] back.
func TestEmulatorGraphClipFloorStraightThrough(t *testing.T) {
	const in, hid, out, levels = 3, 6, 2, 4
	s := linearSamples(9, in, out, 11)
	_, y0 := s.Row(3)
	y0[0] = float32(math.NaN())
	params := newQParams([]int{in, hid, out})
	params.initTorchDefault(rand.New(rand.NewPCG(8, 9)))
	for i := range params.biases[0] {
		params.biases[0][i] += 0.5 + 0.3*float32(i%3) // some above the clip, some below zero
	}
	eg, err := newEmulatorGraph(params, s.Rows, levels)
	if err != nil {
		t.Fatal(err)
	}
	loss, grads, ok, err := eg.run(s.X, s.Y)
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	net := params.network()
	want := MaskedMSEOf(model.ClipFloorPredictor(net, levels), s)
	if math.Abs(float64(loss)-want) > 1e-5*want {
		t.Errorf("graph loss %v, rounded network's masked MSE %v", loss, want)
	}
	// Closed form in float64.
	w1, b1, w2 := params.weights[0], params.biases[0], params.weights[1]
	gW1, gB1 := make([]float64, hid*in), make([]float64, hid)
	gW2, gB2 := make([]float64, out*hid), make([]float64, out)
	n := 0
	for r := 0; r < s.Rows; r++ {
		_, y := s.Row(r)
		for _, v := range y {
			if !math.IsNaN(float64(v)) {
				n++
			}
		}
	}
	clipped := 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		z, q := make([]float64, hid), make([]float64, hid)
		for h := 0; h < hid; h++ {
			z[h] = float64(b1[h])
			for i := 0; i < in; i++ {
				z[h] += float64(w1[h*in+i]) * float64(x[i])
			}
			c := math.Min(math.Max(z[h], 0), 1)
			q[h] = math.Floor(c*levels+0.5) / levels
			if z[h] > 1 {
				clipped++
			}
		}
		for o := 0; o < out; o++ {
			if math.IsNaN(float64(y[o])) {
				continue
			}
			p := float64(params.biases[1][o])
			for h := 0; h < hid; h++ {
				p += float64(w2[o*hid+h]) * q[h]
			}
			e := 2 * (p - float64(y[o])) / float64(n)
			gB2[o] += e
			for h := 0; h < hid; h++ {
				gW2[o*hid+h] += e * q[h]
				if z[h] > 0 && z[h] < 1 {
					d := e * float64(w2[o*hid+h])
					gB1[h] += d
					for i := 0; i < in; i++ {
						gW1[h*in+i] += d * float64(x[i])
					}
				}
			}
		}
	}
	if clipped == 0 {
		t.Fatal("no activation above the clip: the test does not cover it")
	}
	for k, want := range [][]float64{gW1, gB1, gW2, gB2} {
		for i, v := range want {
			if g := float64(grads[k][i]); math.Abs(g-v) > 1e-5*(1+math.Abs(v)) {
				t.Fatalf("gradient tensor %d[%d]: graph %v, straight-through closed form %v", k, i, g, v)
			}
		}
	}
}

// A clip-floor rate emulator learns the smooth map, and the validation loss
// it reports is its rounded network's.
func TestTrainRateEmulatorClipFloor(t *testing.T) {
	trainSet, val := linearSamples(400, 3, 2, 1), linearSamples(100, 3, 2, 2)
	cfg := EmulatorConfig{Hidden: []int{32, 32}, Epochs: 40, Batch: 32, LR: 3e-3, Seed: 1, ClipFloor: 16}
	net, res, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	if got := MaskedMSEOf(model.ClipFloorPredictor(net, 16), val); got != res.ValLoss {
		t.Errorf("reported validation MSE %v, the returned network's rounded MSE %v", res.ValLoss, got)
	}
	if first := res.History[0].ValLoss; !(res.ValLoss < 0.2*first) || !(res.ValLoss < 0.05) {
		t.Errorf("validation MSE %v (first epoch %v): did not learn", res.ValLoss, first)
	}
	if _, _, err := TrainRateEmulator(trainSet, val, nil, EmulatorConfig{Hidden: []int{4}, Epochs: 1, Batch: 4, LR: 1e-3, ClipFloor: -1}, EmulatorRun{}); err == nil {
		t.Error("negative clip-floor levels accepted")
	}
}
