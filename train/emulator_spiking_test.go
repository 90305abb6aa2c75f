package train

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/spikebridge/spikebridge/probe"
)

func TestSpikeOp(t *testing.T) {
	op := spikeOp{threshold: 1, slope: 5}
	in := tensor.New(tensor.WithShape(4), tensor.WithBacking([]float32{0.5, 1, 1.2, -3}))
	out, err := op.Do(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Data().([]float32); !slices.Equal(got, []float32{0, 1, 1, 0}) {
		t.Errorf("spikes %v, want [0 1 1 0]", got)
	}
	sg := spikeOp{threshold: 1, slope: 5, surrogate: true}
	out, _ = sg.Do(in)
	for i, v := range in.Data().([]float32) {
		want := 1 / math.Pow(1+5*math.Abs(float64(v)-1), 2)
		if got := out.Data().([]float32)[i]; math.Abs(float64(got)-want) > 1e-6 {
			t.Errorf("surrogate at %v: %v, want %v", v, got, want)
		}
	}
	hash := func(o spikeOp) uint32 {
		h := fnv.New32a()
		o.WriteHash(h)
		return h.Sum32()
	}
	if hash(op) == hash(spikeOp{threshold: 2, slope: 5}) || hash(op) == hash(spikeOp{threshold: 1, slope: 3}) || hash(op) == hash(sg) {
		t.Error("ops with different parameters hash alike")
	}
}

// seqSamples: inputs u_t ~ N(0,1) per step, context c; target y_t is a
// leaky integral of u plus c (a smooth causal map), window steps.
func seqSamples(rows, window int, seed uint64) *probe.Samples {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := &probe.Samples{Rows: rows, In: window + 1, Out: window}
	for r := 0; r < rows; r++ {
		c := rng.NormFloat64()
		acc := c
		x := make([]float32, window+1)
		y := make([]float32, window)
		for t := 0; t < window; t++ {
			u := rng.NormFloat64()
			x[t] = float32(u)
			acc = 0.8*acc + 0.3*u
			y[t] = float32(acc)
		}
		x[window] = float32(c)
		s.X = append(s.X, x...)
		s.Y = append(s.Y, y...)
	}
	return s
}

// The unrolled Gorgonia graph computes the plain-Go simulation's loss, and
// its readout gradients (which involve no surrogate) match finite
// differences of the plain-Go loss.
func TestSpikingGraphMatchesPlainGo(t *testing.T) {
	const window, batch = 12, 6
	data := seqSamples(batch, window, 1)
	data.Y[5] = float32(math.NaN())
	// With feedback the readout's gradient also flows through the spikes
	// (surrogate), so only the loss is compared there.
	fb := newSpikingEmulator(window, 1, 1, 10, 1, 0.9, 0.8, true, rand.New(rand.NewPCG(2, 2)))
	for i := range fb.B {
		fb.B[i] = 0.3
	}
	for i := range fb.WOut {
		fb.WOut[i] *= 10
	}
	fg, err := newSpikingGraph(fb, batch, 5)
	if err != nil {
		t.Fatal(err)
	}
	if loss, _, ok, err := fg.run(data.X, data.Y); err != nil || !ok {
		t.Fatal(err, ok)
	} else if want := fb.MaskedMSE(data); math.Abs(float64(loss)-want) > 1e-5*want {
		t.Fatalf("feedback: graph loss %v, plain Go %v", loss, want)
	}
	e := newSpikingEmulator(window, 1, 1, 10, 1, 0.9, 0.8, false, rand.New(rand.NewPCG(2, 2)))
	for i := range e.B {
		e.B[i] = 0.3 // some activity
	}
	sg, err := newSpikingGraph(e, batch, 5)
	if err != nil {
		t.Fatal(err)
	}
	loss, grads, ok, err := sg.run(data.X, data.Y)
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	want := e.MaskedMSE(data)
	if math.Abs(float64(loss)-want) > 1e-5*want {
		t.Fatalf("graph loss %v, plain Go %v", loss, want)
	}
	st := e.NewState()
	pred := make([]float32, window)
	spikes := 0
	for r := 0; r < batch; r++ {
		x, _ := data.Row(r)
		e.Forward(pred, x, st)
		spikes += st.Spikes
	}
	if spikes == 0 || spikes == batch*window*10 {
		t.Fatalf("%d spikes: the test needs a network that neither stays silent nor saturates", spikes)
	}
	// d loss / d readout: central differences in float64 of the plain-Go loss.
	for _, p := range []struct {
		name string
		v    []float32
		g    []float32
	}{{"readout bias", e.BOut, grads[4]}, {"readout weight", e.WOut, grads[3]}} {
		for i := range p.v {
			old := p.v[i]
			const h = 1e-2
			p.v[i] = old + h
			up := e.MaskedMSE(data)
			p.v[i] = old - h
			down := e.MaskedMSE(data)
			p.v[i] = old
			fd := (up - down) / (2 * h)
			if math.Abs(float64(p.g[i])-fd) > 1e-3*(1+math.Abs(fd)) {
				t.Errorf("%s %d: gradient %v, finite difference %v", p.name, i, p.g[i], fd)
			}
		}
	}
}

func TestSpikingEmulatorLearnsAndFreezes(t *testing.T) {
	const window = 10
	trainSet, val := seqSamples(256, window, 4), seqSamples(64, window, 5)
	cfg := EmulatorConfig{Hidden: []int{32}, Epochs: 15, Batch: 32, LR: 5e-3, Seed: 1}
	e, res, err := TrainSpikingEmulator(trainSet, val, window, nil, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	initial := newSpikingEmulator(window, 1, 1, 32, 1, defaultSpikingLeak, defaultTraceDecay, false,
		rand.New(rand.NewPCG(cfg.Seed, 0x5b1c1e))).MaskedMSE(val)
	if !(res.ValLoss < 0.5*initial) || e.MaskedMSE(val) != res.ValLoss {
		t.Errorf("validation MSE %v from %v at the start (returned network %v)", res.ValLoss, initial, e.MaskedMSE(val))
	}
	cfg.Freeze = []string{"input", "recurrent"}
	cfg.Epochs = 2
	tuned, _, err := TrainSpikingEmulator(trainSet, val, window, e, cfg, EmulatorRun{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tuned.WIn, e.WIn) || !slices.Equal(tuned.WRec, e.WRec) || !slices.Equal(tuned.B, e.B) {
		t.Error("frozen input/recurrent weights changed")
	}
	if slices.Equal(tuned.WOut, e.WOut) {
		t.Error("the readout did not train")
	}
}
