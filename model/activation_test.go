package model

import (
	"math"
	"testing"
)

// TestActivationsClosedForm checks each activation against its float64
// definition: within 1 ulp of float32 for the transcendental ones, exact for
// LeakyReLU (one float32 product, as PyTorch computes it).
func TestActivationsClosedForm(t *testing.T) {
	xs := []float32{-30, -5.5, -1, -0.375, -1e-6, 0, 1e-6, 0.25, 0.8813736, 2, 9.5, 30}
	cases := []struct {
		kind  Kind
		alpha float32
		f     func(x float64) float64
	}{
		{Tanh, 0, math.Tanh},
		{Sigmoid, 0, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
		{ELU, 1.5, func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 1.5 * math.Expm1(x)
		}},
	}
	for _, c := range cases {
		net, err := New([]Layer{NewParamActivation("a", c.kind, len(xs), c.alpha)})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(xs))
		net.Forward(got, xs, net.NewWorkspace(1))
		for i, x := range xs {
			want := float32(c.f(float64(x)))
			if got[i] != want && math.Nextafter32(got[i], want) != want {
				t.Errorf("%s(%v) = %v, want %v within 1 ulp", c.kind, x, got[i], want)
			}
		}
	}
	net, err := New([]Layer{NewParamActivation("leaky", LeakyReLU, 4, 0.01)})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 4)
	net.Forward(got, []float32{-2, -0.3, 0, 7}, net.NewWorkspace(1))
	slope := float32(0.01)
	for i, want := range []float32{-2 * slope, -0.3 * slope, 0, 7} {
		if got[i] != want {
			t.Errorf("leaky_relu [%d] = %v, want %v", i, got[i], want)
		}
	}
	if _, err := New([]Layer{NewParamActivation("bad", ELU, 2, float32(math.NaN()))}); err == nil {
		t.Error("NaN alpha accepted")
	}
}
