package snn

import (
	"fmt"
	"math"
	"testing"
)

// brian2Network builds the fixture's ff network in Brian2's semantics: the
// input NeuronGroup (IF, v(0) = 0, threshold 1, driven by X) is the Rate
// encoder; the three synaptic layers are IF neurons with constant drive b,
// threshold 1, subtractive reset, v(0) = 0; spikes arrive one step later.
func brian2Network[F Float](t testing.TB, d *brian2FF) *NetworkOf[F] {
	t.Helper()
	spec := NetworkOf[F]{
		Input:       InputOf[F]{Encoding: Rate, Gain: 1, Threshold: 1, InitialMembrane: 0},
		Timesteps:   d.Steps,
		Propagation: NextStep,
		Readout:     Spikes,
		OutputScale: 1,
	}
	for l := range 3 {
		in, out := d.Sizes[l], d.Sizes[l+1]
		w := make([]F, in*out)
		for i := range in {
			for o := range out {
				w[o*in+i] = F(d.W[l][i*out+o]) // fixture stores (in, out)
			}
		}
		b := make([]F, out)
		for o := range b {
			b[o] = F(d.B[l][o])
		}
		spec.Layers = append(spec.Layers, LayerOf[F]{Name: fmt.Sprintf("L%d", l+1), In: in, Out: out,
			Weights: w, Bias: b, Threshold: 1, Leak: 1, Reset: ResetSubtract, InitialMembrane: 0})
	}
	net, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestBrian2FFExact reproduces every spike count, decision and final output
// membrane that Brian2 2.5.1 computed for the ff benchmark (1000 inputs,
// T = 100, float64).
func TestBrian2FFExact(t *testing.T) {
	d := loadBrian2FF(t)
	net := brian2Network[float64](t, d)
	state := net.NewState(d.N)
	actions := make([]int, d.N)
	if err := net.RunBatch(nil, actions, d.X, d.N, state, 0); err != nil {
		t.Fatal(err)
	}
	decisions, outputs, hidden1, hidden2, vfinal := 0, 0, 0, 0, 0
	maxDV := 0.0
	for i := range d.N {
		if int64(actions[i]) == d.Dec[i] {
			decisions++
		}
		if sameCounts(state.Counts(i, 2), d.Counts[i*2:(i+1)*2]) {
			outputs++
		}
		if sameCounts(state.Counts(i, 0), d.Hidden[0][i*16:(i+1)*16]) {
			hidden1++
		}
		if sameCounts(state.Counts(i, 1), d.Hidden[1][i*16:(i+1)*16]) {
			hidden2++
		}
		worst := 0.0
		for o, v := range state.Membrane(i, 2) {
			worst = max(worst, math.Abs(v-d.VFinal[i*2+o]))
		}
		if worst <= 1e-9 {
			vfinal++
		}
		maxDV = max(maxDV, worst)
	}
	t.Logf("float64 next-step vs Brian2: decisions %d/%d, output counts %d/%d, hidden1 %d/%d, hidden2 %d/%d, v_final within 1e-9 %d/%d (max |dv| %.3g)",
		decisions, d.N, outputs, d.N, hidden1, d.N, hidden2, d.N, vfinal, d.N, maxDV)
	for name, got := range map[string]int{"decisions": decisions, "output counts": outputs,
		"hidden1 counts": hidden1, "hidden2 counts": hidden2, "v_final": vfinal} {
		if got != d.N {
			t.Errorf("%s: %d/%d inputs match Brian2, want all", name, got, d.N)
		}
	}
}

// TestBrian2FFFloat32 measures how close the fast float32 path comes to
// Brian2's float64 run: counts may differ by rounding near the threshold.
func TestBrian2FFFloat32(t *testing.T) {
	d := loadBrian2FF(t)
	net := brian2Network[float32](t, d)
	state := net.NewState(d.N)
	x := make([]float32, len(d.X))
	for i, v := range d.X {
		x[i] = float32(v)
	}
	actions := make([]int, d.N)
	if err := net.RunBatch(nil, actions, x, d.N, state, 0); err != nil {
		t.Fatal(err)
	}
	decisions, outputs, hidden := 0, 0, 0
	for i := range d.N {
		if int64(actions[i]) == d.Dec[i] {
			decisions++
		}
		if sameCounts(state.Counts(i, 2), d.Counts[i*2:(i+1)*2]) {
			outputs++
		}
		if sameCounts(state.Counts(i, 0), d.Hidden[0][i*16:(i+1)*16]) &&
			sameCounts(state.Counts(i, 1), d.Hidden[1][i*16:(i+1)*16]) {
			hidden++
		}
	}
	t.Logf("float32 next-step vs Brian2 float64: decisions %d/%d, output counts %d/%d, both hidden layers %d/%d",
		decisions, d.N, outputs, d.N, hidden, d.N)
	// float32 rounding of weights and membranes may flip a few spikes, never many.
	if decisions < d.N*98/100 {
		t.Errorf("float32 decisions agree with Brian2 on %d/%d inputs, want >= 98%%", decisions, d.N)
	}
}

func sameCounts(got []int32, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if float64(got[i]) != want[i] {
			return false
		}
	}
	return true
}

// TestBrian2FFOrderMatters checks that the fixture tells the propagation
// orders apart: the same network swept in SameStep order must miss Brian2's
// counts on many inputs, so the exact match above is not a coincidence.
func TestBrian2FFOrderMatters(t *testing.T) {
	d := loadBrian2FF(t)
	net := brian2Network[float64](t, d)
	spec := *net
	spec.Propagation = SameStep
	same, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	state := same.NewState(d.N)
	if err := same.RunBatch(nil, nil, d.X, d.N, state, 0); err != nil {
		t.Fatal(err)
	}
	differ := 0
	for i := range d.N {
		if !sameCounts(state.Counts(i, 0), d.Hidden[0][i*16:(i+1)*16]) {
			differ++
		}
	}
	t.Logf("same-step order: hidden1 counts differ from Brian2 on %d/%d inputs", differ, d.N)
	if differ < d.N/10 {
		t.Errorf("same-step order differs from Brian2 on only %d/%d inputs; the fixture should separate the orders", differ, d.N)
	}
}
