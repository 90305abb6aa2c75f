package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// The unrolled graph's loss is the snn/ network's masked MSE, and its
// gradients are a float64 closed form of surrogate-gradient BPTT through the
// T steps of one hidden integrate-and-fire layer:
//
//	a_t = W2ᵀ dL/dy / T (spike's readout gradient),
//	g_t = σ'(v_t) (a_t − g_{t+1}) + g_{t+1} (through the reset v_{t+1} = v_t − s_t + I),
//	dL/dI = Σ_t g_t, with σ' the fast-sigmoid surrogate.
func TestSpikingForwardGraphMatchesBPTTClosedForm(t *testing.T) {
	const in, hid, out, T = 3, 7, 2, 6
	const slope = 5.0
	s := linearSamples(10, in, out, 21)
	_, y3 := s.Row(3)
	y3[1] = float32(math.NaN())
	params := newQParams([]int{in, hid, out})
	params.initTorchDefault(rand.New(rand.NewPCG(2, 3)))
	for i := range params.biases[0] {
		params.biases[0][i] += 0.3
	}
	sg, err := newSpikingForwardGraph(params, s.Rows, T, slope)
	if err != nil {
		t.Fatal(err)
	}
	loss, grads, ok, err := sg.run(s.X, s.Y)
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	want := spikingForwardLoss(params.network(), T, s)
	if math.Abs(float64(loss)-want) > 1e-5*want {
		t.Errorf("graph loss %v, simulated network's masked MSE %v", loss, want)
	}
	n := 0
	for _, v := range s.Y {
		if !math.IsNaN(float64(v)) {
			n++
		}
	}
	w1, b1, w2, b2 := params.weights[0], params.biases[0], params.weights[1], params.biases[1]
	gW1, gB1 := make([]float64, hid*in), make([]float64, hid)
	gW2, gB2 := make([]float64, out*hid), make([]float64, out)
	sur := func(v float64) float64 { d := 1 + slope*math.Abs(v-1); return 1 / (d * d) }
	spikes := 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		vs := make([][]float64, T) // membrane before the threshold, per step
		rate := make([]float64, hid)
		for h := 0; h < hid; h++ {
			I := float64(b1[h])
			for i := 0; i < in; i++ {
				I += float64(w1[h*in+i]) * float64(x[i])
			}
			v := 0.5
			for k := 0; k < T; k++ {
				v += I
				if vs[k] == nil {
					vs[k] = make([]float64, hid)
				}
				vs[k][h] = v
				if v >= 1 {
					v--
					rate[h] += 1.0 / T
					spikes++
				}
			}
		}
		dy := make([]float64, out)
		for o := 0; o < out; o++ {
			if math.IsNaN(float64(y[o])) {
				continue
			}
			p := float64(b2[o])
			for h := 0; h < hid; h++ {
				p += float64(w2[o*hid+h]) * rate[h]
			}
			dy[o] = 2 * (p - float64(y[o])) / float64(n)
			gB2[o] += dy[o]
			for h := 0; h < hid; h++ {
				gW2[o*hid+h] += dy[o] * rate[h]
			}
		}
		for h := 0; h < hid; h++ {
			a := 0.0
			for o := 0; o < out; o++ {
				a += float64(w2[o*hid+h]) * dy[o] / T
			}
			g, dI := 0.0, 0.0
			for k := T - 1; k >= 0; k-- {
				g = sur(vs[k][h])*(a-g) + g
				dI += g
			}
			gB1[h] += dI
			for i := 0; i < in; i++ {
				gW1[h*in+i] += dI * float64(x[i])
			}
		}
	}
	if spikes == 0 || spikes == s.Rows*hid*T {
		t.Fatalf("%d spikes: the test needs some neurons firing and some silent steps", spikes)
	}
	for k, want := range [][]float64{gW1, gB1, gW2, gB2} {
		for i, v := range want {
			if g := float64(grads[k][i]); math.Abs(g-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("gradient tensor %d[%d]: graph %v, BPTT closed form %v", k, i, g, v)
			}
		}
	}
}

// A two-hidden-layer spiking forward model learns the smooth map, and the
// validation loss it reports is the returned network's simulated MSE.
func TestTrainSpikingForwardLearns(t *testing.T) {
	trainSet, val := linearSamples(300, 3, 2, 1), linearSamples(80, 3, 2, 2)
	const T = 8
	cfg := EmulatorConfig{Hidden: []int{24, 24}, Epochs: 25, Batch: 32, LR: 5e-3, Seed: 1}
	net, res, err := TrainSpikingForward(trainSet, val, nil, T, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	if got := spikingForwardLoss(net, T, val); got != res.ValLoss {
		t.Errorf("reported validation MSE %v, the returned network's %v", res.ValLoss, got)
	}
	if first := res.History[0].ValLoss; !(res.ValLoss < 0.5*first) || !(res.ValLoss < 0.15) {
		t.Errorf("validation MSE %v (first epoch %v): did not learn", res.ValLoss, first)
	}
	if _, _, err := TrainSpikingForward(trainSet, val, nil, 0, cfg, EmulatorRun{}); err == nil {
		t.Error("T = 0 accepted")
	}
	leaky := cfg
	leaky.Leak = 0.9
	if _, _, err := TrainSpikingForward(trainSet, val, nil, T, leaky, EmulatorRun{}); err == nil {
		t.Error("a leak (which the model does not have) accepted")
	}
}

// A spiking forward model interrupted mid-epoch and resumed ends bit for
// bit as an uninterrupted run.
func TestSpikingForwardResumeIsExact(t *testing.T) {
	trainSet, val := linearSamples(96, 3, 2, 4), linearSamples(32, 3, 2, 5)
	cfg := EmulatorConfig{Hidden: []int{10, 10}, Epochs: 3, Batch: 16, LR: 5e-3, Seed: 2}
	want, wantRes, err := TrainSpikingForward(trainSet, val, nil, 5, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ckpt.bin")
	if _, _, err := TrainSpikingForward(trainSet, val, nil, 5, cfg, interruptAt(path, 2, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	got, gotRes, err := TrainSpikingForward(trainSet, val, nil, 5, cfg, EmulatorRun{CheckpointPath: path, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range got.Layers() {
		if !slices.Equal(l.Weights, want.Layers()[i].Weights) || !slices.Equal(l.Bias, want.Layers()[i].Bias) {
			t.Errorf("layer %s differs from the uninterrupted run's", l.Name)
		}
	}
	if !reflect.DeepEqual(gotRes, wantRes) {
		t.Errorf("result\n%+v\nwant\n%+v", gotRes, wantRes)
	}
}
