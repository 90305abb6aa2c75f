package snn

import (
	"strings"
	"testing"
)

// TestStrictThresholdClosedForm drives every hidden neuron with 0.5 per step
// from v(0) = 0, so v reaches exactly 1.0 on the second step. With v >= 1 a
// neuron fires on steps 2, 4, 6, ... (floor(T/2) spikes); with the strict
// v > 1 of DSQN it fires when v = 1.5 on steps 3, 5, 7, ... (floor((T-1)/2)).
// The hidden layer is 80 neurons wide (past the AVX-512 next-step kernel's
// minimum) and the batch is 40 (past the lockstep minimum), so the paths a
// strict layer must avoid would be taken if it did not.
func TestStrictThresholdClosedForm(t *testing.T) {
	const hidden, T, batch = 80, 11, 40
	for _, strict := range []bool{false, true} {
		w1 := make([]float32, hidden)
		for i := range w1 {
			w1[i] = 0.5
		}
		w2 := make([]float32, hidden)
		for i := range w2 {
			w2[i] = 1
		}
		spec := Network{Input: InputOf[float32]{Encoding: Analog, Gain: 1}, Propagation: NextStep, Readout: Membrane,
			OutputScale: 1, Layers: []Layer{
				{Name: "h", In: 1, Out: hidden, Weights: w1, Threshold: 1, Leak: 1, Reset: ResetSubtract, StrictThreshold: strict},
				{Name: "out", In: hidden, Out: 1, Weights: w2},
			}}
		net, err := New(spec)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(T / 2)
		if strict {
			want = (T - 1) / 2
		}
		x := make([]float32, batch)
		for i := range x {
			x[i] = 1
		}
		st := net.NewState(batch)
		dst := make([]float32, batch)
		if err := net.RunBatch(dst, nil, x, batch, st, T); err != nil {
			t.Fatal(err)
		}
		if got := st.Counters.Spikes[0]; got != want*hidden*batch {
			t.Errorf("strict=%v: %d hidden spikes in a batch of %d, want %d per neuron (%d)", strict, got, batch, want, want*hidden*batch)
		}
		one := net.NewState(1)
		q := make([]float32, 1)
		if _, err := net.Run(q, x[:1], one, T); err != nil {
			t.Fatal(err)
		}
		if q[0] != dst[0] || one.Counters.Spikes[0] != want*hidden {
			t.Errorf("strict=%v: single run gives %v with %d spikes, batch %v with %d per sample", strict, q[0],
				one.Counters.Spikes[0], dst[0], st.Counters.Spikes[0]/batch)
		}
	}
	// Same-step propagation has no strict kernel: refused, naming the layer.
	_, err := New(Network{Input: InputOf[float32]{Gain: 1}, OutputScale: 1, Layers: []Layer{
		{Name: "h", In: 1, Out: 1, Weights: []float32{1}, Threshold: 1, Leak: 1, StrictThreshold: true},
		{Name: "out", In: 1, Out: 1, Weights: []float32{1}}}})
	if err == nil || !strings.Contains(err.Error(), `"h"`) || !strings.Contains(err.Error(), "next-step") {
		t.Errorf("strict threshold with same-step propagation: error %v, want one naming layer \"h\" and next-step", err)
	}
}
