package snn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// singleIF is one IF neuron per input value, each driven by the constant
// current x (weight 1): threshold theta, v(0) = theta/2, subtractive reset.
func singleIF[F Float](t testing.TB, width int, prop Propagation) *NetworkOf[F] {
	t.Helper()
	w := make([]F, width*width)
	for i := range width {
		w[i*width+i] = 1
	}
	net, err := New(NetworkOf[F]{
		Layers:      []LayerOf[F]{NewIFLayer[F]("if", width, width, w, nil)},
		Input:       InputOf[F]{Encoding: Analog, Gain: 1},
		Propagation: prop,
		Readout:     Spikes,
		OutputScale: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// roundedCount is the closed form floor(T*x + 1/2), clipped to [0, T].
func roundedCount(x float64, T int) int {
	return int(min(max(math.Floor(float64(T)*x+0.5), 0), float64(T)))
}

func TestSingleIFClosedForm(t *testing.T) {
	// Dyadic inputs are exact in float32 and float64, so the closed form
	// holds to the last spike, boundaries (T*x + 1/2 an integer) included.
	xs := []float64{0, 1.0 / 1024, 0.0625, 0.125, 0.25, 0.3125, 0.5, 0.6875, 0.75, 0.96875, 1, 1.25, 2, -0.25, -1}
	Ts := []int{1, 2, 3, 7, 8, 16, 33, 64, 100, 256, 1000}
	run := func(t *testing.T, counts func(x []float64, T int) []int32) {
		for _, T := range Ts {
			got := counts(xs, T)
			for i, x := range xs {
				if want := roundedCount(x, T); int(got[i]) != want {
					t.Errorf("x=%v T=%d: %d spikes, want floor(T*x+1/2) = %d", x, T, got[i], want)
				}
			}
		}
	}
	for _, prop := range []Propagation{SameStep, NextStep} {
		t.Run(fmt.Sprintf("float32/%s", prop), func(t *testing.T) {
			net := singleIF[float32](t, len(xs), prop)
			state := net.NewState(1)
			run(t, func(x []float64, T int) []int32 {
				x32 := make([]float32, len(x))
				for i, v := range x {
					x32[i] = float32(v)
				}
				if _, err := net.Run(nil, x32, state, T); err != nil {
					t.Fatal(err)
				}
				return state.Counts(0, 0)
			})
		})
		t.Run(fmt.Sprintf("float64/%s", prop), func(t *testing.T) {
			net := singleIF[float64](t, len(xs), prop)
			state := net.NewState(1)
			run(t, func(x []float64, T int) []int32 {
				if _, err := net.Run(nil, x, state, T); err != nil {
					t.Fatal(err)
				}
				return state.Counts(0, 0)
			})
		})
	}
}

// TestSingleIFRandomInputs checks the closed form on random x in [0, 1],
// skipping the rare x where T*x + 1/2 lies within rounding of an integer.
func TestSingleIFRandomInputs(t *testing.T) {
	const width = 256
	rng := rand.New(rand.NewPCG(7, 0))
	net := singleIF[float64](t, width, SameStep)
	state := net.NewState(1)
	x := make([]float64, width)
	checked := 0
	for _, T := range []int{5, 8, 16, 31, 64, 128, 500} {
		for i := range x {
			x[i] = rng.Float64()
		}
		if _, err := net.Run(nil, x, state, T); err != nil {
			t.Fatal(err)
		}
		for i, c := range state.Counts(0, 0) {
			exact := float64(T)*x[i] + 0.5
			if math.Abs(exact-math.Round(exact)) < 1e-9 {
				continue
			}
			checked++
			if want := roundedCount(x[i], T); int(c) != want {
				t.Errorf("x=%v T=%d: %d spikes, want %d", x[i], T, c, want)
			}
		}
	}
	if checked < 7*width-10 {
		t.Fatalf("only %d cases checked", checked)
	}
}

// chainIF is input -> IF layer "a" -> IF layer "b" with one-to-one weight 1.
// A spike of "a" lifts "b" from theta/2 to 3/2 theta, so "b" fires once per
// spike of "a" it has received.
func chainIF(t testing.TB, width int, prop Propagation) *Network {
	t.Helper()
	eye := make([]float32, width*width)
	for i := range width {
		eye[i*width+i] = 1
	}
	net, err := New(Network{
		Layers:      []Layer{NewIFLayer[float32]("a", width, width, eye, nil), NewIFLayer[float32]("b", width, width, eye, nil)},
		Input:       InputOf[float32]{Gain: 1},
		Propagation: prop,
		Readout:     Spikes,
		OutputScale: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestPropagationLatency: in SameStep order the second layer fires in the
// step of every first-layer spike, floor(T x + 1/2) times; in NextStep order a
// spike arrives a step later, so the last step's spike is missed:
// floor((T-1) x + 1/2).
func TestPropagationLatency(t *testing.T) {
	xs := []float32{0, 0.125, 0.25, 0.5, 0.75, 1}
	for _, tc := range []struct {
		prop  Propagation
		delay int
	}{{SameStep, 0}, {NextStep, 1}} {
		t.Run(string(tc.prop), func(t *testing.T) {
			net := chainIF(t, len(xs), tc.prop)
			state := net.NewState(1)
			for _, T := range []int{1, 2, 4, 8, 9, 64} {
				if _, err := net.Run(nil, xs, state, T); err != nil {
					t.Fatal(err)
				}
				for i, x := range xs {
					a, b := state.Counts(0, 0)[i], state.Counts(0, 1)[i]
					if want := roundedCount(float64(x), T); int(a) != want {
						t.Errorf("T=%d x=%v: layer a %d spikes, want %d", T, x, a, want)
					}
					if want := roundedCount(float64(x), T-tc.delay); int(b) != want {
						t.Errorf("T=%d x=%v: layer b %d spikes, want %d", T, x, b, want)
					}
				}
			}
		})
	}
}

// TestLIFPeriod: a LIF neuron (leak beta, reset to zero, v(0) = 0) under a
// constant current I reaches theta after p = ceil(log(1 - theta(1-beta)/I) /
// log beta) steps, so it fires floor(T/p) times; below I = theta(1-beta) never.
func TestLIFPeriod(t *testing.T) {
	cases := []struct{ beta, current float64 }{
		{0.9, 0.3}, {0.9, 0.15}, {0.9, 0.105}, {0.9, 0.09}, {0.5, 0.7}, {0.5, 0.45}, {0.95, 0.06}, {0.8, 1.5},
	}
	const theta, T = 1.0, 200
	for _, tc := range cases {
		for _, prop := range []Propagation{SameStep, NextStep} {
			net, err := New(NetworkOf[float64]{
				Layers: []LayerOf[float64]{{Name: "lif", In: 1, Out: 1, Weights: []float64{1},
					Threshold: theta, Leak: tc.beta, Reset: ResetZero}},
				Input: InputOf[float64]{Gain: 1}, Propagation: prop, Readout: Spikes, OutputScale: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			state := net.NewState(1)
			if _, err := net.Run(nil, []float64{tc.current}, state, T); err != nil {
				t.Fatal(err)
			}
			want := 0
			if tc.current > theta*(1-tc.beta) {
				p := math.Ceil(math.Log(1-theta*(1-tc.beta)/tc.current) / math.Log(tc.beta))
				want = int(T / max(p, 1))
			}
			if got := state.Counts(0, 0)[0]; int(got) != want {
				t.Errorf("beta=%v I=%v %s: %d spikes in %d steps, want %d", tc.beta, tc.current, prop, got, T, want)
			}
		}
	}
}

// TestMembraneReadout: an IF layer (weights 1) into an integrator with
// weights w and bias b gives Q_o = (w_o * count + b_o * T) / T * scale.
func TestMembraneReadout(t *testing.T) {
	const scale = 2.5
	net, err := New(Network{
		Layers: []Layer{
			NewIFLayer[float32]("hidden", 1, 1, []float32{1}, nil),
			{Name: "q", In: 1, Out: 3, Weights: []float32{0.5, -1, 0.25}, Bias: []float32{0.125, 0.75, 0}},
		},
		Input: InputOf[float32]{Gain: 1}, OutputScale: scale,
	})
	if err != nil {
		t.Fatal(err)
	}
	state := net.NewState(1)
	q := make([]float32, 3)
	for _, x := range []float32{0, 0.25, 0.5, 0.75, 1} {
		for _, T := range []int{4, 16, 64} {
			a, err := net.Run(q, []float32{x}, state, T)
			if err != nil {
				t.Fatal(err)
			}
			count := float64(roundedCount(float64(x), T))
			want := []float64{(0.5*count + 0.125*float64(T)) / float64(T) * scale,
				(-count + 0.75*float64(T)) / float64(T) * scale, 0.25 * count / float64(T) * scale}
			wantAction := 0
			for o := range want {
				if math.Abs(float64(q[o])-want[o]) > 1e-5 {
					t.Errorf("x=%v T=%d: q[%d] = %v, want %v", x, T, o, q[o], want[o])
				}
				if want[o] > want[wantAction] {
					wantAction = o
				}
			}
			if a != wantAction {
				t.Errorf("x=%v T=%d: action %d, want %d (q %v)", x, T, a, wantAction, want)
			}
		}
	}
}

// TestSpikeReadoutTies: more spikes win; equal counts go to the larger final
// membrane, then to the lowest index.
func TestSpikeReadoutTies(t *testing.T) {
	cases := []struct {
		bias   []float32
		T      int
		action int
	}{
		{[]float32{0.3, 0.35}, 2, 1},        // no spikes: v 0.6 < 0.7
		{[]float32{0.35, 0.3}, 2, 0},        // no spikes: v 0.7 > 0.6
		{[]float32{0.25, 0.25, 0.25}, 2, 0}, // all equal: lowest index
		{[]float32{0.6, 0.55}, 2, 0},        // 1 spike each: v 0.2 > 0.1
		{[]float32{0.5, 0.6, 0.55}, 3, 1},   // 1, 1, 1 spikes: v 0.5, 0.8, 0.65
		{[]float32{0.45, 0.6}, 4, 1},        // 1 vs 2 spikes: count wins over v (0.8 vs 0.4)
	}
	for _, tc := range cases {
		k := len(tc.bias)
		net, err := New(Network{
			Layers: []Layer{{Name: "out", In: 1, Out: k, Weights: make([]float32, k), Bias: tc.bias,
				Threshold: 1, Leak: 1}},
			Input: InputOf[float32]{Gain: 1}, Readout: Spikes, OutputScale: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		state := net.NewState(1)
		a, err := net.Run(nil, []float32{0}, state, tc.T)
		if err != nil {
			t.Fatal(err)
		}
		if a != tc.action {
			t.Errorf("bias %v T=%d: action %d, want %d (counts %v, v %v)", tc.bias, tc.T, a, tc.action,
				state.Counts(0, 0), state.Membrane(0, 0))
		}
	}
}
