package model

import (
	"math"
	"testing"
)

// TestActivationsMatchPyTorch compares each activation with PyTorch 1.13's
// float32 CPU results on the same inputs (torch.tanh, torch.sigmoid,
// F.elu(alpha=1.5), written here as bit patterns): Tanh within 1 ulp,
// Sigmoid within 2 ulp, ELU within 1 ulp or alpha*2^-24 absolute (PyTorch's
// exp(x) - 1 cancels near 0), LeakyReLU bit-exact.
func TestActivationsMatchPyTorch(t *testing.T) {
	xs := []float32{-30, -5.5, -1, -0.375, -1e-6, 0, 1e-6, 0.25, 0.8813736, 2, 9.5, 30}
	cases := []struct {
		kind   Kind
		alpha  float32
		maxULP int64
		torch  []uint32
	}{
		{Tanh, 0, 1, []uint32{0xbf800000, 0xbf7ffdd0, 0xbf42f7d6, 0xbeb77a9f, 0xb58637bd, 0x00000000, 0x358637bd, 0x3e7acbf5, 0x3f3504f3, 0x3f76ca83, 0x3f800000, 0x3f800000}},
		{Sigmoid, 0, 2, []uint32{0x29d2b707, 0x3b855eca, 0x3e89b2b1, 0x3ed08e01, 0x3efffff8, 0x3f000000, 0x3f000004, 0x3f0feacd, 0x3f3504f3, 0x3f617bea, 0x3f7ffb18, 0x3f800000}},
		{ELU, 1.5, 1, []uint32{0xbfc00000, 0xbfbf3720, 0xbf72bbfa, 0xbef0296d, 0xb5cc0000, 0x00000000, 0x358637bd, 0x3e800000, 0x3f61a1b3, 0x40000000, 0x41180000, 0x41f00000}},
	}
	for _, c := range cases {
		net, err := New([]Layer{NewParamActivation("a", c.kind, len(xs), c.alpha)})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, len(xs))
		net.Forward(got, xs, net.NewWorkspace(1))
		for i, x := range xs {
			want := math.Float32frombits(c.torch[i])
			ulp := int64(math.Float32bits(got[i])) - int64(c.torch[i])
			if ulp < 0 {
				ulp = -ulp
			}
			abs := math.Abs(float64(got[i] - want))
			if ulp > c.maxULP && !(c.kind == ELU && abs <= float64(c.alpha)*0x1p-24) {
				t.Errorf("%s(%v) = %v, PyTorch %v (%d ulp apart)", c.kind, x, got[i], want, ulp)
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
