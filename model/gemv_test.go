package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemvMatchesGenericBitForBit pins the kernel in use (assembly on amd64)
// to the documented pure-Go summation order, and both to a float64 reference.
func TestGemvMatchesGenericBitForBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 15, 16, 17, 20, 31, 32, 33, 64, 100} {
		for _, rows := range []int{1, 2, 3, 8, 13} {
			w := make([]float32, rows*n)
			x := make([]float32, n)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			got := make([]float32, rows)
			want := make([]float32, rows)
			gemv(got, w, x)
			gemvGeneric(want, w, x)
			for o := range got {
				if math.Float32bits(got[o]) != math.Float32bits(want[o]) {
					t.Fatalf("n=%d rows=%d row %d: kernel %v, generic %v", n, rows, o, got[o], want[o])
				}
				ref := 0.0
				for i := 0; i < n; i++ {
					ref += float64(w[o*n+i]) * float64(x[i])
				}
				if math.Abs(float64(got[o])-ref) > 1e-5*float64(n) {
					t.Fatalf("n=%d rows=%d row %d: %v, float64 reference %v", n, rows, o, got[o], ref)
				}
			}
		}
	}
}
