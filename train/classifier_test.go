package train

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// ceLoss64 is the mean softmax cross-entropy of p on (obs, labels) in
// float64, with optional clip-floor activations: the closed form the graph
// must reproduce.
func ceLoss64(p *qParams, obs []float32, labels []int, levels int) float64 {
	in := p.sizes[0]
	var total float64
	for s, label := range labels {
		x := make([]float64, in)
		for i := range x {
			x[i] = float64(obs[s*in+i])
		}
		for l := range p.weights {
			out := p.sizes[l+1]
			y := make([]float64, out)
			for o := range y {
				y[o] = float64(p.biases[l][o])
				for i := range x {
					y[o] += float64(p.weights[l][o*len(x)+i]) * x[i]
				}
				if l < len(p.weights)-1 {
					y[o] = math.Max(y[o], 0)
					if levels > 0 {
						y[o] = math.Floor(math.Min(y[o], 1)*float64(levels)+0.5) / float64(levels)
					}
				}
			}
			x = y
		}
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, v)
		}
		var sum float64
		for _, v := range x {
			sum += math.Exp(v - m)
		}
		total += m + math.Log(sum) - x[label]
	}
	return total / float64(len(labels))
}

func TestClassifierGraphLossAndGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := newQParams([]int{3, 5, 4, 3})
	p.initTorchDefault(rng)
	const batch = 6
	obs := make([]float32, batch*3)
	for i := range obs {
		obs[i] = float32(rng.NormFloat64())
	}
	labels := []int{0, 2, 1, 1, 0, 2}
	for _, levels := range []int{0, 4} {
		cg, err := newClassifierGraph(p, batch, levels)
		if err != nil {
			t.Fatal(err)
		}
		loss, grads, err := cg.run(obs, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := ceLoss64(p, obs, labels, levels)
		if math.Abs(float64(loss)-want) > 1e-5 {
			t.Errorf("levels %d: graph loss %v, closed form %v", levels, loss, want)
		}
		if levels > 0 {
			continue // the straight-through gradient is not the derivative of the rounded loss
		}
		// Central finite differences of the float64 closed form.
		tensors := p.tensors()
		for k, tensor := range tensors {
			for i := range tensor {
				orig := tensor[i]
				const h = 1e-3
				tensor[i] = orig + h
				up := ceLoss64(p, obs, labels, 0)
				tensor[i] = orig - h
				down := ceLoss64(p, obs, labels, 0)
				tensor[i] = orig
				fd := (up - down) / (2 * h)
				if math.Abs(float64(grads[k][i])-fd) > 2e-3 {
					t.Errorf("tensor %d [%d]: gradient %v, finite difference %v", k, i, grads[k][i], fd)
				}
			}
		}
	}
}

// TestClassifierGraphSoftTargets: with probability rows in place of labels
// the graph's loss is the mean of Σ_k p_k (log Σ exp z − z_k), the
// closed form of the soft cross-entropy (a mix of the one-hot losses).
func TestClassifierGraphSoftTargets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p := newQParams([]int{3, 5, 2})
	p.initTorchDefault(rng)
	const batch = 4
	obs := make([]float32, batch*3)
	for i := range obs {
		obs[i] = float32(rng.NormFloat64())
	}
	labels := []int{0, 1, 1, 0}
	targets := []float32{0.75, 0.25, 0.5, 0.5, 0, 1, 0.9, 0.1}
	cg, err := newClassifierGraph(p, batch, 0)
	if err != nil {
		t.Fatal(err)
	}
	loss, _, err := cg.run(obs, labels, targets)
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for s := 0; s < batch; s++ {
		for c := 0; c < 2; c++ {
			// sample s's loss were its label c, weighted by p_c
			one := ceLoss64(p, obs[s*3:(s+1)*3], []int{c}, 0)
			want += float64(targets[s*2+c]) * one / batch
		}
	}
	if math.Abs(float64(loss)-want) > 1e-5 {
		t.Errorf("soft-target loss %v, closed form %v", loss, want)
	}
}

// xorish labels points by the sign of x0*x1 — not linearly separable.
func xorish(n int, seed uint64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	states := make([]float32, 2*n)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		a, b := 2*rng.Float64()-1, 2*rng.Float64()-1
		states[2*i], states[2*i+1] = float32(a), float32(b)
		if a*b > 0 {
			labels[i] = 1
		}
	}
	return states, labels
}

func TestTrainClassifierLearnsAndIsDeterministic(t *testing.T) {
	states, labels := xorish(800, 5)
	cfg := ClassifierConfig{Hidden: []int{16, 16}, Epochs: 40, Batch: 32, LR: 1e-2, Seed: 9}
	net, res, err := TrainClassifier(states, 2, labels, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accuracy < 0.95 || res.Samples != 800 || res.Updates != 40*25 {
		t.Errorf("result %+v: want accuracy >= 0.95 on the sign of x0*x1, 1000 updates", res)
	}
	// Held-out points.
	test, testLabels := xorish(400, 6)
	ws := net.NewWorkspace(1)
	out := make([]float32, 2)
	correct := 0
	for i, l := range testLabels {
		net.Forward(out, test[2*i:2*i+2], ws)
		if model.Argmax(out) == l {
			correct++
		}
	}
	if acc := float64(correct) / 400; acc < 0.92 {
		t.Errorf("held-out accuracy %.3f, want >= 0.92", acc)
	}
	again, _, err := TrainClassifier(states, 2, labels, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(net.Layers(), again.Layers()) {
		t.Error("two runs with the same seed gave different networks")
	}
	// A warm start from a network that already classifies perfectly, at a
	// tiny learning rate, keeps it.
	cfg.Init, cfg.LR, cfg.Epochs = net, 1e-7, 1
	_, res2, err := TrainClassifier(states, 2, labels, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res2.Accuracy-res.Accuracy) > 0.002 {
		t.Errorf("warm start at lr 1e-7: accuracy %.4f, started from %.4f", res2.Accuracy, res.Accuracy)
	}
	// Clip-floor training also learns.
	cfg = ClassifierConfig{Hidden: []int{16, 16}, Epochs: 40, Batch: 32, LR: 1e-2, Seed: 9, ClipFloor: 8}
	if _, res, err = TrainClassifier(states, 2, labels, 2, cfg); err != nil || res.Accuracy < 0.9 {
		t.Errorf("clip-floor 8: %+v, %v; want accuracy >= 0.9", res, err)
	}
}

func TestTrainClassifierBadInput(t *testing.T) {
	good := DefaultClassifierConfig()
	with := func(f func(*ClassifierConfig)) ClassifierConfig { c := good; f(&c); return c }
	states := []float32{0, 1, 2, 3}
	for _, c := range []struct {
		name    string
		states  []float32
		width   int
		labels  []int
		classes int
		cfg     ClassifierConfig
		want    string
	}{
		{"empty", nil, 2, nil, 2, good, "no states"},
		{"ragged", []float32{1, 2, 3}, 2, []int{0}, 2, good, "not whole rows of 2"},
		{"labels", states, 2, []int{0}, 2, good, "2 states but 1 labels"},
		{"NaN", []float32{0, float32(math.NaN()), 2, 3}, 2, []int{0, 1}, 2, good, "state 0, column 1 is NaN"},
		{"label range", states, 2, []int{0, 2}, 2, good, "label 1 is 2"},
		{"classes", states, 2, []int{0, 0}, 1, good, "1 classes"},
		{"epochs", states, 2, []int{0, 1}, 2, with(func(c *ClassifierConfig) { c.Epochs = 0 }), "epochs 0"},
		{"lr", states, 2, []int{0, 1}, 2, with(func(c *ClassifierConfig) { c.LR = 0 }), "learning rate 0"},
		{"hidden", states, 2, []int{0, 1}, 2, with(func(c *ClassifierConfig) { c.Hidden = []int{4, 0} }), "hidden layer 2 width 0"},
		{"clip-floor", states, 2, []int{0, 1}, 2, with(func(c *ClassifierConfig) { c.ClipFloor = -1 }), "clip-floor levels -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := TrainClassifier(c.states, c.width, c.labels, c.classes, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
