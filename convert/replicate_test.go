package convert

import (
	"math"
	"testing"

	"github.com/spikebridge/spikebridge/snn"
)

// A 1-1-1 network fed a constant current c: the hidden IF neuron (v(0) =
// 1/2, subtractive reset) fires floor(c T + 1/2) times in T steps; copy j
// of k starts at (j + 1/2)/k and fires floor(c T + (j + 1/2)/k) times, and
// the readout averages the copies.
func TestReplicateClosedForm(t *testing.T) {
	layers := []snn.Layer{snn.NewIFLayer("h", 1, 1, []float32{1}, []float32{0}),
		snn.NewIFLayer("out", 1, 1, []float32{1}, []float32{0})}
	s, err := snn.New(snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}, Timesteps: 8,
		Readout: snn.Membrane, OutputScale: 1, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{1, 2, 3, 4} {
		r, err := Replicate(s, k)
		if err != nil {
			t.Fatal(err)
		}
		if r.Sizes()[1] != k {
			t.Fatalf("k=%d: sizes %v, want %d hidden neurons", k, r.Sizes(), k)
		}
		state := r.NewState(1)
		out := make([]float32, 1)
		for _, T := range []int{4, 8} {
			for _, c := range []float64{0, 0.1, 0.23, 0.5, 0.61, 0.9, 1} {
				if _, err := r.Run(out, []float32{float32(c)}, state, T); err != nil {
					t.Fatal(err)
				}
				var want float64
				for j := 0; j < k; j++ {
					want += math.Floor(c*float64(T) + (float64(j)+0.5)/float64(k))
				}
				want /= float64(k * T)
				if math.Abs(float64(out[0])-want) > 1e-6 {
					t.Errorf("k=%d T=%d c=%v: output %v, want %v", k, T, c, out[0], want)
				}
			}
		}
	}
	if _, err := Replicate(s, 0); err == nil {
		t.Error("0 copies: no error")
	}
}

// On the seed-1 policy, two copies at T keep the decisions at least as well
// as one copy at T, and the network has twice the hidden neurons.
func TestReplicateOnPolicy(t *testing.T) {
	net, arrays := seed1Policy(t)
	calib := States{Data: arrays["states"].Float32s()[:400*4], Width: 4}
	one, _, err := Convert(net, calib, Options{Normalization: NeuronWise, Percentile: 100, Timesteps: 16, InitialMembrane: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Normalization: NeuronWise, Percentile: 100, Timesteps: 16, InitialMembrane: 0.5, Copies: 2}
	two, _, err := Convert(net, calib, o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := two.Sizes(), []int{4, 128, 128, 2}; !equalInts(got, want) {
		t.Fatalf("sizes %v, want %v", got, want)
	}
	// The Q estimate of two copies at T is closer to the ANN's than one copy's.
	ws := net.NewWorkspace(1)
	q := make([]float32, 2)
	var errOne, errTwo float64
	so, st := one.NewState(1), two.NewState(1)
	outOne, outTwo := make([]float32, 2), make([]float32, 2)
	for r := 0; r < calib.Rows(); r++ {
		x := calib.Row(r)
		net.Forward(q, x, ws)
		if _, err := one.Run(outOne, x, so, 8); err != nil {
			t.Fatal(err)
		}
		if _, err := two.Run(outTwo, x, st, 8); err != nil {
			t.Fatal(err)
		}
		for i := range q {
			errOne += math.Abs(float64(outOne[i] - q[i]))
			errTwo += math.Abs(float64(outTwo[i] - q[i]))
		}
	}
	if errTwo >= 0.8*errOne {
		t.Errorf("mean |Q error| at T=8: %g with two copies, %g with one; want two copies clearly better", errTwo/float64(calib.Rows()), errOne/float64(calib.Rows()))
	}
	if _, _, err := Convert(net, calib, Options{Normalization: NeuronWise, Percentile: 100, Timesteps: 16, Copies: 2, CalibrationRounds: 1}); err == nil {
		t.Error("copies with calibration: no error")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Normalized computes the network's outputs, with hidden activations at
// most 1 on the states it was normalised on.
func TestNormalized(t *testing.T) {
	net, arrays := seed1Policy(t)
	calib := States{Data: arrays["states"].Float32s()[:400*4], Width: 4}
	norm, err := Normalized(net, calib, 100)
	if err != nil {
		t.Fatal(err)
	}
	ws, wn := net.NewWorkspace(1), norm.NewWorkspace(1)
	q, qn := make([]float32, 2), make([]float32, 2)
	for r := 0; r < calib.Rows(); r++ {
		net.Forward(q, calib.Row(r), ws)
		norm.Forward(qn, calib.Row(r), wn)
		for i := range q {
			if math.Abs(float64(q[i]-qn[i])) > 1e-4*(1+math.Abs(float64(q[i]))) {
				t.Fatalf("state %d output %d: %v, the network gives %v", r, i, qn[i], q[i])
			}
		}
	}
	st, err := stackOf(norm)
	if err != nil {
		t.Fatal(err)
	}
	for l, a := range st.activations(calib) {
		top := float32(0)
		for _, v := range a {
			top = max(top, v)
		}
		if top > 1+1e-5 || top < 0.999 {
			t.Errorf("hidden layer %d: largest activation %v on the states, want 1", l, top)
		}
	}
	if _, err := Normalized(net, calib, 0); err == nil {
		t.Error("percentile 0: no error")
	}
}
