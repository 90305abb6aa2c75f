package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// linearSamples returns rows of x ~ U(-1, 1)^in with y = A x + c (a fixed
// smooth map an MLP learns quickly).
func linearSamples(rows, in, out int, seed uint64) *probe.Samples {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &probe.Samples{Rows: rows, In: in, Out: out}
	for r := 0; r < rows; r++ {
		x := make([]float32, in)
		for i := range x {
			x[i] = float32(2*rng.Float64() - 1)
		}
		s.X = append(s.X, x...)
		for o := 0; o < out; o++ {
			v := float32(0.1 * float64(o))
			for i, xi := range x {
				v += float32(math.Sin(float64(1+o+i))) * xi
			}
			s.Y = append(s.Y, v)
		}
	}
	return s
}

func removeRows(s *probe.Samples, drop map[int]bool) *probe.Samples {
	out := &probe.Samples{In: s.In, Out: s.Out}
	for r := 0; r < s.Rows; r++ {
		if drop[r] {
			continue
		}
		x, y := s.Row(r)
		out.X = append(out.X, x...)
		out.Y = append(out.Y, y...)
		out.Rows++
	}
	return out
}

// The masked loss and every gradient of a batch with NaN rows equal those of
// the batch with the rows removed, and partial NaNs match a float64 closed
// form of the loss and of the output bias gradient.
func TestMaskedLossIgnoresNaNTargets(t *testing.T) {
	const in, out = 3, 2
	full := linearSamples(8, in, out, 3)
	nan := float32(math.NaN())
	drop := map[int]bool{1: true, 4: true, 6: true}
	for r := range drop {
		_, y := full.Row(r)
		for i := range y {
			y[i] = nan
		}
	}
	_, y2 := full.Row(2)
	y2[1] = nan // a partial row stays in both
	kept := removeRows(full, drop)

	params := newQParams([]int{in, 5, out})
	params.initTorchDefault(rand.New(rand.NewPCG(1, 2)))
	gFull, err := newEmulatorGraph(params, full.Rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	gKept, err := newEmulatorGraph(params, kept.Rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	lossFull, gradsFull, ok, err := gFull.run(full.X, full.Y)
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	gradsFull = cloneAll(gradsFull)
	lossKept, gradsKept, ok, err := gKept.run(kept.X, kept.Y)
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	if math.IsNaN(float64(lossFull)) || math.Abs(float64(lossFull-lossKept)) > 1e-6*math.Abs(float64(lossKept)) {
		t.Errorf("loss with NaN rows %v, with the rows removed %v", lossFull, lossKept)
	}
	for k := range gradsFull {
		for i := range gradsFull[k] {
			a, b := gradsFull[k][i], gradsKept[k][i]
			if math.IsNaN(float64(a)) || math.Abs(float64(a-b)) > 1e-6*(1+math.Abs(float64(b))) {
				t.Fatalf("gradient tensor %d[%d]: %v with NaN rows, %v with them removed", k, i, a, b)
			}
		}
	}
	// Closed form in float64 from the plain-Go forward.
	net := params.network()
	ws := net.NewWorkspace(1)
	pred := make([]float32, out)
	var sum float64
	n := 0
	biasGrad := make([]float64, out)
	for r := 0; r < kept.Rows; r++ {
		x, y := kept.Row(r)
		net.Forward(pred, x, ws)
		for o := range y {
			if math.IsNaN(float64(y[o])) {
				continue
			}
			e := float64(pred[o]) - float64(y[o])
			sum += e * e
			biasGrad[o] += 2 * e
			n++
		}
	}
	if n != 5*2-1 {
		t.Fatalf("%d present targets, want 9", n)
	}
	if want := sum / float64(n); math.Abs(float64(lossKept)-want) > 1e-6*want {
		t.Errorf("masked loss %v, closed form %v", lossKept, want)
	}
	if got := MaskedMSE(net, full, ws); math.Abs(got-sum/float64(n)) > 1e-12 {
		t.Errorf("MaskedMSE %v, closed form %v", got, sum/float64(n))
	}
	outBias := gradsKept[len(gradsKept)-1]
	for o := range biasGrad {
		if want := biasGrad[o] / float64(n); math.Abs(float64(outBias[o])-want) > 1e-5 {
			t.Errorf("output bias gradient %d: %v, closed form %v", o, outBias[o], want)
		}
	}
}

func cloneAll(v [][]float32) [][]float32 {
	out := make([][]float32, len(v))
	for i := range v {
		out[i] = slices.Clone(v[i])
	}
	return out
}

// Training on a set with all-NaN samples gives the network of training on
// the set without them (one padded batch per epoch: only the order of the
// sum differs).
func TestTrainWithNaNSamplesEqualsWithout(t *testing.T) {
	full := linearSamples(14, 3, 2, 5)
	drop := map[int]bool{0: true, 5: true, 9: true, 13: true}
	for r := range drop {
		_, y := full.Row(r)
		for i := range y {
			y[i] = float32(math.NaN())
		}
	}
	kept := removeRows(full, drop)
	val := linearSamples(20, 3, 2, 6)
	cfg := EmulatorConfig{Hidden: []int{8}, Epochs: 30, Batch: 16, LR: 1e-2, Seed: 3}
	a, ra, err := TrainRateEmulator(full, val, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	b, rb, err := TrainRateEmulator(kept, val, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	if ra.BestEpoch != rb.BestEpoch || math.Abs(ra.ValLoss-rb.ValLoss) > 1e-5*rb.ValLoss {
		t.Errorf("best epoch %d / %d, validation loss %v / %v", ra.BestEpoch, rb.BestEpoch, ra.ValLoss, rb.ValLoss)
	}
	for l, la := range a.Layers() {
		lb := b.Layers()[l]
		for i := range la.Weights {
			if math.Abs(float64(la.Weights[i]-lb.Weights[i])) > 1e-5 {
				t.Fatalf("layer %s weight %d: %v with NaN samples, %v without", la.Name, i, la.Weights[i], lb.Weights[i])
			}
		}
	}
}

func TestRateEmulatorLearnsAndStopsEarly(t *testing.T) {
	trainSet, val := linearSamples(512, 4, 3, 7), linearSamples(128, 4, 3, 8)
	cfg := EmulatorConfig{Hidden: []int{32, 32}, Epochs: 60, Batch: 32, LR: 3e-3, Seed: 1, Patience: 5}
	net, res, err := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	// Targets have variance ~ sum sin² / 3 ≈ 0.5-1: a fit well below that.
	if res.ValLoss > 5e-3 {
		t.Errorf("validation MSE %v after %d epochs, want < 5e-3", res.ValLoss, res.Epochs)
	}
	// The returned network is the best epoch's: its loss is the reported one.
	if got := MaskedMSE(net, val, net.NewWorkspace(1)); got != res.ValLoss {
		t.Errorf("returned network's validation MSE %v, reported %v", got, res.ValLoss)
	}
	best := res.History[res.BestEpoch-1].ValLoss
	if best != res.ValLoss {
		t.Errorf("history at best epoch %v, result %v", best, res.ValLoss)
	}
	if res.EarlyStop && res.Epochs-res.BestEpoch != cfg.Patience {
		t.Errorf("stopped at epoch %d, best %d, patience %d", res.Epochs, res.BestEpoch, cfg.Patience)
	}
	// Same config, same network, bit for bit.
	again, _, _ := TrainRateEmulator(trainSet, val, nil, cfg, EmulatorRun{})
	if !slices.Equal(again.Layers()[0].Weights, net.Layers()[0].Weights) {
		t.Error("the same seed gives different weights")
	}
}

func TestRateEmulatorFreezesLayers(t *testing.T) {
	trainSet, val := linearSamples(64, 3, 2, 1), linearSamples(32, 3, 2, 2)
	cfg := EmulatorConfig{Hidden: []int{8, 8}, Epochs: 5, Batch: 16, LR: 1e-2, Seed: 2}
	init, _, err := TrainRateEmulator(trainSet, val, nil, EmulatorConfig{Hidden: []int{8, 8}, Epochs: 1, Batch: 16, LR: 1e-3, Seed: 9}, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	before := cloneLayers(init)
	cfg.Freeze = []string{"fc1", "fc2"}
	tuned, _, err := TrainRateEmulator(trainSet, val, init, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range tuned.Layers() {
		if l.Kind != model.Dense {
			continue
		}
		same := slices.Equal(l.Weights, before[i].Weights) && slices.Equal(l.Bias, before[i].Bias)
		if frozen := l.Name != "fc3"; frozen != same {
			t.Errorf("layer %s: frozen %v but unchanged %v", l.Name, frozen, same)
		}
	}
	if !slices.Equal(init.Layers()[0].Weights, before[0].Weights) {
		t.Error("the initial network was modified")
	}
}

func cloneLayers(net *model.Network) []model.Layer {
	var out []model.Layer
	for _, l := range net.Layers() {
		l.Weights, l.Bias = slices.Clone(l.Weights), slices.Clone(l.Bias)
		out = append(out, l)
	}
	return out
}

func TestRateEmulatorBadInput(t *testing.T) {
	good := linearSamples(16, 2, 1, 1)
	allNaN := linearSamples(16, 2, 1, 1)
	for i := range allNaN.Y {
		allNaN.Y[i] = float32(math.NaN())
	}
	badX := linearSamples(16, 2, 1, 1)
	badX.X[5] = float32(math.Inf(1))
	cfg := EmulatorConfig{Hidden: []int{4}, Epochs: 1, Batch: 4, LR: 1e-3}
	for _, tc := range []struct {
		name       string
		train, val *probe.Samples
		edit       func(*EmulatorConfig)
		want       string
	}{
		{"all-NaN targets", allNaN, good, nil, "every target is NaN"},
		{"non-finite feature", badX, good, nil, "sample 2, feature 1 is +Inf"},
		{"no samples", &probe.Samples{In: 2, Out: 1}, good, nil, "no samples"},
		{"size mismatch", good, linearSamples(4, 3, 1, 1), nil, "validation samples are 3 -> 1"},
		{"unknown freeze", good, good, func(c *EmulatorConfig) { c.Freeze = []string{"fc9"} }, `freeze "fc9": no such layer`},
		{"freeze all", good, good, func(c *EmulatorConfig) { c.Freeze = []string{"fc1", "fc2"} }, "every layer is frozen"},
		{"zero lr", good, good, func(c *EmulatorConfig) { c.LR = 0 }, "learning rate 0"},
		{"no hidden", good, good, func(c *EmulatorConfig) { c.Hidden = nil }, "at least one hidden layer"},
	} {
		c := cfg
		if tc.edit != nil {
			tc.edit(&c)
		}
		_, _, err := TrainRateEmulator(tc.train, tc.val, nil, c, EmulatorRun{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// Gradient clipping rescales the joint L2 norm of every tensor, and leaves
// gradients under the limit alone.
func TestClipGradients(t *testing.T) {
	g := [][]float32{{3}, {0, 4}}
	clipGradients(g, 10)
	if g[0][0] != 3 || g[1][1] != 4 {
		t.Errorf("under the limit: %v, want unchanged", g)
	}
	clipGradients(g, 1)
	if math.Abs(float64(g[0][0])-0.6) > 1e-7 || math.Abs(float64(g[1][1])-0.8) > 1e-7 || g[1][0] != 0 {
		t.Errorf("clipped to norm 1: %v, want [[0.6] [0 0.8]]", g)
	}
}
