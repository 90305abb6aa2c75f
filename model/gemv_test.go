package model

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 is a*b+c rounded once to float32, computed with big.Float.
func exactFMA32(a, b, c float32) float32 {
	p := new(big.Float).SetPrec(200).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
	p.Add(p, big.NewFloat(float64(c)))
	f, _ := p.Float32()
	return f
}

func TestFMA32IsCorrectlyRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// Operands chosen so that a*b+c often lands on or near a float32 midpoint.
	check := func(a, b, c float32) {
		if c == 0 && a*b == 0 {
			return // signed-zero rules are not what this test is about
		}
		got, want := fma32(a, b, c), exactFMA32(a, b, c)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	for i := 0; i < 200000; i++ {
		a := float32(rng.NormFloat64())
		b := float32(rng.NormFloat64())
		c := float32(rng.NormFloat64() * math.Pow(2, float64(rng.IntN(60)-30)))
		check(a, b, c)
		// c = -(a*b rounded) + tiny: exercises the midpoint repair.
		check(a, b, -a*b)
		check(1+float32(rng.IntN(1<<12))/(1<<12), 1+float32(rng.IntN(1<<12))/(1<<12), float32(rng.IntN(1<<24)))
	}
	// A hand-made double-rounding case: 1 + 2^-24 (a float32 midpoint) plus 2^-60.
	a, b := float32(1+math.Pow(2, -12)), float32(1+math.Pow(2, -12)) // a*b = 1 + 2^-11 + 2^-24
	c := float32(-math.Pow(2, -11))
	check(a, b, c)
}

// TestKernelMatchesGenericBitForBit pins the kernel in use (AVX2+FMA assembly
// where the CPU has it) to the portable one, and both to a float64 reference.
func TestKernelMatchesGenericBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, in := range []int{1, 2, 3, 4, 7, 16, 33, 64} {
		for _, out := range []int{1, 2, 3, 7, 8, 9, 16, 31, 32, 33, 40, 64, 65, 100} {
			wt := make([]float32, in*out)
			x := make([]float32, in)
			for i := range wt {
				wt[i] = float32(rng.NormFloat64())
			}
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			got := make([]float32, out)
			want := make([]float32, out)
			gemvT(got, wt, x)
			gemvTGeneric(want, wt, x)
			for o := range got {
				if math.Float32bits(got[o]) != math.Float32bits(want[o]) {
					t.Fatalf("in=%d out=%d output %d: kernel %v, generic %v (FMA kernel: %v)", in, out, o, got[o], want[o], HasAVX2FMA())
				}
				ref := 0.0
				for k := 0; k < in; k++ {
					ref += float64(wt[k*out+o]) * float64(x[k])
				}
				if math.Abs(float64(got[o])-ref) > 1e-5*float64(in) {
					t.Fatalf("in=%d out=%d output %d: %v, float64 reference %v", in, out, o, got[o], ref)
				}
			}
		}
	}
	t.Logf("AVX2+FMA kernel in use: %v", HasAVX2FMA())
}
