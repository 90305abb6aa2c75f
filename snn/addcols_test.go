package snn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAddColumnsKernelBitIdentical compares the float32 kernel (assembly on
// amd64) with the generic loop, bit for bit, over widths that exercise the
// 16-, 4- and 1-element paths and spike lists of every length.
func TestAddColumnsKernelBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, out := range []int{1, 2, 3, 4, 5, 15, 16, 17, 21, 32, 63, 64, 65, 100} {
		const in = 40
		wt := make([]float32, in*out)
		for i := range wt {
			wt[i] = float32(rng.NormFloat64())
		}
		for _, nSpikes := range []int{0, 1, 2, 7, 40} {
			spikes := make([]int32, nSpikes)
			for i := range spikes {
				spikes[i] = int32(rng.IntN(in)) // repeats allowed
			}
			slices.Sort(spikes) // the kernel's contract: ascending
			want := make([]float32, out)
			for i := range want {
				want[i] = float32(rng.NormFloat64()) * 1e3
			}
			got := append([]float32(nil), want...)
			want64 := make([]float64, out)
			for i := range want64 {
				want64[i] = rng.NormFloat64() * 1e3
			}
			got64 := slices.Clone(want64)
			wt64 := make([]float64, len(wt))
			for i := range wt64 {
				wt64[i] = rng.NormFloat64()
			}
			addColumns(want, wt, spikes)
			addColumns32(got, wt, spikes)
			addColumns(want64, wt64, spikes)
			addColumns64(got64, wt64, spikes)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("float32 out=%d spikes=%d: element %d = %v, generic %v", out, nSpikes, i, got[i], want[i])
				}
				if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
					t.Fatalf("float64 out=%d spikes=%d: element %d = %v, generic %v", out, nSpikes, i, got64[i], want64[i])
				}
			}
		}
	}
}

func TestAddColumnsRejectsOutOfRangeSpike(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a spike index beyond the matrix did not panic")
		}
	}()
	addColumns32(make([]float32, 4), make([]float32, 8), []int32{2})
}

// TestIntegrateAndFireKernelBitIdentical compares the float32 kernel with the
// generic loop: same membranes bit for bit, same spike lists, for widths that
// exercise the 4-wide blocks and the scalar tail, leaks 1 and < 1, and
// membranes landing exactly on the threshold.
func TestIntegrateAndFireKernelBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, out := range []int{1, 3, 4, 5, 8, 15, 16, 17, 64, 67} {
		for _, leak := range []float32{1, 0.9, 0.5} {
			for trial := range 20 {
				v := make([]float32, out)
				drive := make([]float32, out)
				th := make([]float32, out)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
					drive[i] = float32(rng.NormFloat64() * 0.5)
					th[i] = float32(0.5 + rng.Float64())
					if trial%4 == 0 && i%3 == 0 { // exactly at threshold
						v[i], drive[i] = th[i], 0
						if leak != 1 {
							v[i] = th[i] / leak
						}
					}
				}
				want := slices.Clone(v)
				wantSpikes := make([]int32, out)
				gotSpikes := make([]int32, out)
				kw := integrateAndFire(want, drive, leak, th, wantSpikes)
				kg := integrateAndFire32(v, drive, leak, th, gotSpikes)
				if kg != kw || !slices.Equal(gotSpikes[:kg], wantSpikes[:kw]) {
					t.Fatalf("out=%d leak=%v: spikes %v, generic %v", out, leak, gotSpikes[:kg], wantSpikes[:kw])
				}
				for i := range v {
					if math.Float32bits(v[i]) != math.Float32bits(want[i]) {
						t.Fatalf("out=%d leak=%v: v[%d] = %v, generic %v", out, leak, i, v[i], want[i])
					}
				}
			}
		}
	}
}
