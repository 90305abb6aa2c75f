package nef

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A LIF neuron under constant J fires at 1/(τ_ref + τ_rc·log1p(1/(J−1))):
// Nengo's sub-step spike times make the simulated rate match it closely.
func TestLIFRateMatchesClosedForm(t *testing.T) {
	l := DefaultLIF()
	dt := 0.001
	for _, J := range []float64{1.5, 2, 5, 20} {
		st := NewLIFState(1)
		out := []float64{0}
		spikes := 0
		const seconds = 20
		for k := 0; k < seconds*1000; k++ {
			spikes += l.Step(dt, []float64{J}, out, st)
		}
		want := l.Rate(J)
		got := float64(spikes) / seconds
		if math.Abs(got-want) > 0.1+0.001*want {
			t.Errorf("J = %v: %v Hz simulated, closed form %v Hz", J, got, want)
		}
	}
}

// Gain and bias put the rate at x = 1 on the max rate and the threshold at
// the intercept.
func TestGainBiasDefinition(t *testing.T) {
	l := DefaultLIF()
	for _, c := range []struct{ rate, intercept float64 }{{200, -0.5}, {400, 0.9}, {250, 0}} {
		g, b, err := l.GainBias(c.rate, c.intercept)
		if err != nil {
			t.Fatal(err)
		}
		if r := l.Rate(g + b); math.Abs(r-c.rate) > 1e-9*c.rate {
			t.Errorf("rate at x=1: %v, want %v", r, c.rate)
		}
		if j := g*c.intercept + b; math.Abs(j-1) > 1e-12 {
			t.Errorf("current at the intercept: %v, want 1", j)
		}
	}
	if _, _, err := l.GainBias(600, 0); err == nil {
		t.Error("600 Hz with tau_ref 2 ms accepted")
	}
	if _, _, err := l.GainBias(200, 1); err == nil {
		t.Error("intercept 1 accepted")
	}
}

// Decoders of a 100-neuron ensemble represent x to within a few percent of
// its range in rate mode, and the low-pass filter reaches 1 − e^(−t/τ).
func TestDecodersAndLowpass(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e, err := NewEnsemble(DefaultEnsembleSpec(100, 1), rng)
	if err != nil {
		t.Fatal(err)
	}
	pts := UniformBallPoints(DefaultEvalPoints(100, 1), 1, rng)
	dec, err := SolveDecoders(e, pts, pts, 1, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	rates := make([]float64, e.N)
	se := 0.0
	for k := 0; k <= 100; k++ {
		x := -1 + 0.02*float64(k)
		e.Rates(rates, []float64{x})
		y := 0.0
		for i, r := range rates {
			y += dec[i] * r
		}
		se += (y - x) * (y - x)
	}
	if rmse := math.Sqrt(se / 101); rmse > 0.05 {
		t.Errorf("decoded RMSE %v over [-1, 1], want < 0.05", rmse)
	}
	f, _ := NewLowpass(0.01, 0.001)
	y := []float64{0}
	for k := 0; k < 10; k++ {
		f.Step(y, []float64{1})
	}
	if want := 1 - math.Exp(-10*0.001/0.01); math.Abs(y[0]-want) > 1e-12 {
		t.Errorf("low-pass after 10 ms: %v, want %v", y[0], want)
	}
}
