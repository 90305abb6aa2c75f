package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomNetwork builds an in-h1-...-out network of baseline IF layers with
// weights N(0, 1)*gain/sqrt(in) and biases N(0.05, 0.05): hidden firing rates
// of roughly 10-50 % per step for inputs in [-1, 1].
func randomNetwork(t testing.TB, sizes []int, seed uint64, prop Propagation, readout Readout, enc Encoding) *Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	spec := Network{Input: InputOf[float32]{Encoding: enc, Gain: 1, Threshold: 1, InitialMembrane: 0.5},
		Timesteps: 64, Propagation: prop, Readout: readout, OutputScale: 1}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		w := make([]float32, in*out)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 1.5 / math.Sqrt(float64(in)))
		}
		b := make([]float32, out)
		for i := range b {
			b[i] = float32(0.05 + 0.05*rng.NormFloat64())
		}
		spec.Layers = append(spec.Layers, NewIFLayer(fmt.Sprintf("fc%d", l+1), in, out, w, b))
	}
	net, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func randomInputs(n, width int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*width)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

func TestZeroAllocs(t *testing.T) {
	for _, prop := range []Propagation{SameStep, NextStep} {
		for _, enc := range []Encoding{Analog, Rate, Poisson} {
			for _, readout := range []Readout{Membrane, Spikes} {
				name := fmt.Sprintf("%s/%s/%s", prop, enc, readout)
				t.Run(name, func(t *testing.T) {
					net := randomNetwork(t, []int{4, 32, 32, 2}, 1, prop, readout, enc)
					const batch = 8
					x := randomInputs(batch, 4, 2)
					state := net.NewState(batch)
					state.Source = rand.NewPCG(1, 2)
					rec := &Recorder{Events: make([]SpikeEvent, 0, 16)} // overflows: must count, not grow
					q := make([]float32, batch*2)
					actions := make([]int, batch)
					if n := testing.AllocsPerRun(20, func() {
						if _, err := net.Run(q[:2], x[:4], state, 64); err != nil {
							t.Fatal(err)
						}
					}); n != 0 {
						t.Errorf("Run: %v allocations per decision", n)
					}
					state.Recorder = rec
					if n := testing.AllocsPerRun(20, func() {
						if err := net.RunBatch(q, actions, x, batch, state, 64); err != nil {
							t.Fatal(err)
						}
					}); n != 0 {
						t.Errorf("RunBatch with recorder: %v allocations", n)
					}
					if rec.Dropped == 0 || len(rec.Events) != cap(rec.Events) {
						t.Errorf("recorder kept %d of cap %d and dropped %d; want it full with drops", len(rec.Events), cap(rec.Events), rec.Dropped)
					}
				})
			}
		}
	}
}

// TestRunBatchMatchesRun: every sample of a batch gives what a single run does.
func TestRunBatchMatchesRun(t *testing.T) {
	for _, prop := range []Propagation{SameStep, NextStep} {
		net := randomNetwork(t, []int{4, 16, 16, 3}, 3, prop, Membrane, Analog)
		const batch = 20
		x := randomInputs(batch, 4, 4)
		q := make([]float32, batch*3)
		actions := make([]int, batch)
		if err := net.RunBatch(q, actions, x, batch, net.NewState(batch), 32); err != nil {
			t.Fatal(err)
		}
		single := net.NewState(1)
		q1 := make([]float32, 3)
		for i := range batch {
			a, err := net.Run(q1, x[i*4:(i+1)*4], single, 32)
			if err != nil {
				t.Fatal(err)
			}
			if a != actions[i] || !slices.Equal(q1, q[i*3:(i+1)*3]) {
				t.Errorf("%s sample %d: single %d %v, batch %d %v", prop, i, a, q1, actions[i], q[i*3:(i+1)*3])
			}
		}
	}
}

// TestPoissonDeterministic: the same seed gives identical counts; another
// seed gives different ones; the input spike rate matches min(|x|, 1).
func TestPoissonDeterministic(t *testing.T) {
	net := randomNetwork(t, []int{4, 64, 64, 2}, 5, SameStep, Spikes, Poisson)
	x := []float32{0.1, -0.4, 0.7, 1.5}
	counts := func(seed uint64) ([][]int32, int64) {
		state := net.NewState(1)
		state.Source = rand.NewPCG(seed, 99)
		var all [][]int32
		for range 5 {
			if _, err := net.Run(nil, x, state, 200); err != nil {
				t.Fatal(err)
			}
			for l := range net.Layers {
				all = append(all, slices.Clone(state.Counts(0, l)))
			}
		}
		return all, state.Counters.InputSpikes
	}
	a, inA := counts(42)
	b, inB := counts(42)
	c, _ := counts(43)
	if !slices.EqualFunc(a, b, slices.Equal) || inA != inB {
		t.Fatal("same seed gave different spike counts")
	}
	if slices.EqualFunc(a, c, slices.Equal) {
		t.Fatal("seeds 42 and 43 gave identical spike counts")
	}
	// Expected input spikes: 5 decisions * 200 steps * (0.1 + 0.4 + 0.7 + 1).
	mean := 5 * 200 * 2.2
	sd := math.Sqrt(5 * 200 * (0.1*0.9 + 0.4*0.6 + 0.7*0.3))
	if math.Abs(float64(inA)-mean) > 5*sd {
		t.Errorf("%d input spikes, want %.0f ± %.0f (5 sd)", inA, mean, 5*sd)
	}
}

// TestSignedInputSpikes: negative inputs give negative spikes that subtract
// their weight column. With v(0) = 0 and Rate threshold 1, x = -0.25 fires a
// negative spike every 4 steps.
func TestSignedInputSpikes(t *testing.T) {
	for _, enc := range []Encoding{Rate, Poisson} {
		net, err := New(Network{
			Layers: []Layer{{Name: "out", In: 2, Out: 1, Weights: []float32{1, 1}}},
			Input:  InputOf[float32]{Encoding: enc, Gain: 1, Threshold: 1}, OutputScale: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		state := net.NewState(1)
		state.Source = rand.NewPCG(3, 4)
		rec := &Recorder{Events: make([]SpikeEvent, 0, 100)}
		state.Recorder = rec
		q := make([]float32, 1)
		x := []float32{-0.25, 1} // Poisson: input 1 fires every step
		if _, err := net.Run(q, x, state, 16); err != nil {
			t.Fatal(err)
		}
		neg, pos := 0, 0
		for _, e := range rec.Events {
			if e.Layer != -1 {
				t.Fatalf("%s: event %+v from a non-spiking layer", enc, e)
			}
			if e.Negative {
				neg++
				if e.Neuron != 0 {
					t.Errorf("%s: negative spike from input %d", enc, e.Neuron)
				}
			} else {
				pos++
			}
		}
		if pos != 16 {
			t.Errorf("%s: %d positive spikes from x = 1 in 16 steps, want 16", enc, pos)
		}
		if enc == Rate && neg != 4 {
			t.Errorf("rate: %d negative spikes from x = -0.25 in 16 steps, want 4", neg)
		}
		if want := float32(pos-neg) / 16; q[0] != want {
			t.Errorf("%s: q = %v, want (positive - negative spikes)/T = %v", enc, q[0], want)
		}
	}
}

// TestCountersMatchRecording: spikes per layer, SynOps (spikes times fan-out)
// and input MACs agree with an independent tally of the recorded events.
func TestCountersMatchRecording(t *testing.T) {
	for _, enc := range []Encoding{Analog, Rate} {
		for _, prop := range []Propagation{SameStep, NextStep} {
			sizes := []int{4, 24, 16, 3}
			net := randomNetwork(t, sizes, 11, prop, Spikes, enc)
			const batch, T = 6, 50
			state := net.NewState(batch)
			rec := &Recorder{Events: make([]SpikeEvent, 0, 100000)}
			state.Recorder = rec
			x := randomInputs(batch, 4, 12)
			for i := range x {
				x[i] = float32(math.Abs(float64(x[i])))
			}
			if err := net.RunBatch(nil, nil, x, batch, state, T); err != nil {
				t.Fatal(err)
			}
			if rec.Dropped != 0 {
				t.Fatal("recorder overflowed")
			}
			perLayer := make([]int64, len(sizes)-1)
			var input, synops int64
			for _, e := range rec.Events {
				if e.Sample < 0 || e.Sample >= batch || e.Step < 0 || e.Step >= T {
					t.Fatalf("event out of range: %+v", e)
				}
				if e.Layer == -1 {
					input++
					synops += int64(sizes[1])
					continue
				}
				perLayer[e.Layer]++
				if int(e.Layer)+2 < len(sizes) {
					synops += int64(sizes[e.Layer+2])
				}
			}
			c := state.Counters
			name := fmt.Sprintf("%s/%s", enc, prop)
			if !slices.Equal(c.Spikes, perLayer) || c.InputSpikes != input || c.SynOps != synops {
				t.Errorf("%s: counters spikes %v input %d synops %d; recording says %v, %d, %d",
					name, c.Spikes, c.InputSpikes, c.SynOps, perLayer, input, synops)
			}
			wantMACs := int64(0)
			if enc == Analog {
				wantMACs = batch * T * 4 * 24
			}
			if c.Decisions != batch || c.Steps != batch*T || c.InputMACs != wantMACs {
				t.Errorf("%s: decisions %d steps %d MACs %d, want %d %d %d", name, c.Decisions, c.Steps, c.InputMACs, batch, batch*T, wantMACs)
			}
			if c.TotalSpikes() == 0 || (enc == Rate && input == 0) {
				t.Errorf("%s: no spikes at all; the test network is too quiet", name)
			}
			for l := range perLayer {
				var sum int64
				for i := range batch {
					for _, k := range state.Counts(i, l) {
						sum += int64(k)
					}
				}
				if sum != perLayer[l] {
					t.Errorf("%s: layer %d per-neuron counts sum to %d, recording has %d", name, l, sum, perLayer[l])
				}
			}
			state.ResetCounters()
			if state.Counters.Decisions != 0 || state.Counters.TotalSpikes() != 0 {
				t.Errorf("ResetCounters left %+v", state.Counters)
			}
		}
	}
}

// TestCarryMembrane: with the membrane carried over, two decisions of T steps
// spike as often as one decision of 2T steps; without, each starts from v(0).
func TestCarryMembrane(t *testing.T) {
	net := singleIF[float64](t, 3, SameStep)
	x := []float64{0.3, 0.7, 0.55}
	long := net.NewState(1)
	if _, err := net.Run(nil, x, long, 26); err != nil {
		t.Fatal(err)
	}
	carry := net.NewState(1)
	carry.CarryMembrane = true
	var sum [3]int32
	for range 2 {
		if _, err := net.Run(nil, x, carry, 13); err != nil {
			t.Fatal(err)
		}
		for i, k := range carry.Counts(0, 0) {
			sum[i] += k
		}
	}
	if !slices.Equal(sum[:], long.Counts(0, 0)) {
		t.Errorf("carried 2x13 steps: %v spikes, one run of 26: %v", sum, long.Counts(0, 0))
	}
	carry.Reset()
	if _, err := net.Run(nil, x, carry, 13); err != nil {
		t.Fatal(err)
	}
	for i, k := range carry.Counts(0, 0) {
		if want := roundedCount(x[i], 13); int(k) != want {
			t.Errorf("after Reset, x=%v: %d spikes, want %d", x[i], k, want)
		}
	}
}

func TestNewRejectsBadSpecs(t *testing.T) {
	good := func() Network {
		return Network{
			Layers: []Layer{
				NewIFLayer[float32]("fc1", 2, 3, make([]float32, 6), nil),
				NewIFLayer[float32]("fc2", 3, 2, make([]float32, 6), []float32{0, 0}),
			},
			Input: InputOf[float32]{Gain: 1}, OutputScale: 1,
		}
	}
	if _, err := New(good()); err != nil {
		t.Fatalf("good spec rejected: %v", err)
	}
	cases := []struct {
		name   string
		mutate func(*Network)
		want   string
	}{
		{"no layers", func(n *Network) { n.Layers = nil }, "at least one layer"},
		{"weights", func(n *Network) { n.Layers[0].Weights = make([]float32, 5) }, `layer 0 ("fc1"): weights hold 5 values, want out*in = 3*2 = 6`},
		{"nan weight", func(n *Network) { n.Layers[1].Weights[4] = float32(math.NaN()) }, `layer 1 ("fc2"): weight [1, 1] is NaN`},
		{"bias", func(n *Network) { n.Layers[1].Bias = []float32{1} }, `layer 1 ("fc2"): bias holds 1 values, want 2`},
		{"chain", func(n *Network) { n.Layers[1].In = 4; n.Layers[1].Weights = make([]float32, 8) }, `layer 1 ("fc2"): input size 4 does not match the 3 outputs of layer 0 ("fc1")`},
		{"threshold", func(n *Network) { n.Layers[0].Threshold = 0 }, `layer 0 ("fc1"): threshold is 0, want a finite number > 0`},
		{"thresholds", func(n *Network) { n.Layers[0].Thresholds = []float32{1, -1, 1} }, `layer 0 ("fc1"): threshold [1] is -1`},
		{"threshold count", func(n *Network) { n.Layers[0].Thresholds = []float32{1} }, `layer 0 ("fc1"): thresholds hold 1 values, want one per neuron (3)`},
		{"leak", func(n *Network) { n.Layers[0].Leak = 0 }, `layer 0 ("fc1"): leak is 0, want 0 < leak <= 1`},
		{"leak > 1", func(n *Network) { n.Layers[0].Leak = 1.5 }, `leak is 1.5`},
		{"reset", func(n *Network) { n.Layers[0].Reset = "half" }, `layer 0 ("fc1"): unknown reset mode "half"`},
		{"initial", func(n *Network) { n.Layers[0].InitialMembranes = []float32{0} }, `initial membranes hold 1 values, want one per neuron (3)`},
		{"duplicate", func(n *Network) { n.Layers[1].Name = "fc1" }, `layer 1 ("fc1"): name already used by layer 0`},
		{"gain", func(n *Network) { n.Input.Gain = 0 }, "input: gain is 0"},
		{"rate threshold", func(n *Network) { n.Input.Encoding = Rate }, "input: rate encoding threshold is 0"},
		{"encoding", func(n *Network) { n.Input.Encoding = "latency" }, `unknown input encoding "latency"`},
		{"scale", func(n *Network) { n.OutputScale = float32(math.Inf(1)) }, "output scale is +Inf"},
		{"propagation", func(n *Network) { n.Propagation = "delayed" }, `unknown propagation "delayed"`},
		{"readout", func(n *Network) { n.Readout = "rate" }, `unknown readout "rate"`},
		{"timesteps", func(n *Network) { n.Timesteps = -1 }, "timesteps is -1"},
		{"spiking output threshold", func(n *Network) { n.Readout = Spikes; n.Layers[1].Threshold = 0 }, `layer 1 ("fc2"): threshold is 0`},
	}
	for _, tc := range cases {
		spec := good()
		tc.mutate(&spec)
		_, err := New(spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	// The membrane integrator needs no neuron parameters.
	spec := good()
	spec.Layers[1].Threshold, spec.Layers[1].Leak = 0, 0
	if _, err := New(spec); err != nil {
		t.Errorf("integrator without neuron parameters rejected: %v", err)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	net := randomNetwork(t, []int{4, 8, 2}, 1, SameStep, Membrane, Analog)
	other := randomNetwork(t, []int{4, 8, 2}, 1, SameStep, Membrane, Analog)
	state := net.NewState(2)
	x := []float32{0.1, 0.2, 0.3, 0.4}
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"T<0", func() error { _, err := net.Run(nil, x, state, -1); return err }, "timesteps -1, want > 0"},
		{"T=0 without default", func() error {
			n2 := *other
			n2.Timesteps = 0
			_, err := n2.Run(nil, x, n2.NewState(1), 0)
			return err
		}, "timesteps 0, want > 0"},
		{"width", func() error { _, err := net.Run(nil, x[:3], state, 8); return err }, "input holds 3 values, want batch*4 = 4"},
		{"nan", func() error {
			_, err := net.Run(nil, []float32{0, float32(math.NaN()), 0, 0}, state, 8)
			return err
		}, "input [0, 1] is NaN"},
		{"dst", func() error { _, err := net.Run(make([]float32, 3), x, state, 8); return err }, "output holds 3 values"},
		{"foreign state", func() error { _, err := other.Run(nil, x, state, 8); return err }, "not made by this network"},
		{"batch", func() error { return net.RunBatch(nil, nil, make([]float32, 12), 3, state, 8) }, "batch 3 outside 1..2"},
		{"actions", func() error { return net.RunBatch(nil, make([]int, 1), make([]float32, 8), 2, state, 8) }, "actions hold 1 values"},
	}
	for _, tc := range cases {
		if err := tc.run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
	poisson := randomNetwork(t, []int{4, 8, 2}, 1, SameStep, Membrane, Poisson)
	if _, err := poisson.Run(nil, x, poisson.NewState(1), 8); err == nil || !strings.Contains(err.Error(), "Source") {
		t.Errorf("Poisson without a source: %v", err)
	}
}

// TestHiddenRates documents the firing rates of the benchmark network, so
// BenchmarkDecision measures a realistic load (10-50 % per neuron and step).
func TestHiddenRates(t *testing.T) {
	net := randomNetwork(t, []int{4, 64, 64, 2}, 1, SameStep, Membrane, Analog)
	const batch, T = 200, 64
	state := net.NewState(batch)
	if err := net.RunBatch(nil, nil, randomInputs(batch, 4, 9), batch, state, T); err != nil {
		t.Fatal(err)
	}
	for l := range 2 {
		rate := float64(state.Counters.Spikes[l]) / float64(batch*T*64)
		t.Logf("layer %d: %.1f %% of neurons fire per step", l, 100*rate)
		if rate < 0.10 || rate > 0.50 {
			t.Errorf("layer %d rate %.3f outside [0.10, 0.50]", l, rate)
		}
	}
}
