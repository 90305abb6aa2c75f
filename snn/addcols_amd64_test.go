package snn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWideKernelsBitIdentical compares the AVX-512 per-sample kernels with the
// generic loops, bit for bit, over widths that exercise the 4-register
// blocks, single registers and masked tails, and checks that they write
// nothing past the slices they are given (sentinels after the ends).
func TestWideKernelsBitIdentical(t *testing.T) {
	if _, avx512 := lockstepKernels(); !avx512 {
		t.Skip("no AVX-512 here")
	}
	checkWide[float32](t, addColumnsWide32, integrateAndFireWide32)
	checkWide[float64](t, addColumnsWide64, integrateAndFireWide64)
	checkWideSplit[float32](t, integrateWide32, fireResetWide32, resetCountWide32)
	checkWideSplit[float64](t, integrateWide64, fireResetWide64, resetCountWide64)
}

// checkWideSplit compares integrate, fireReset and resetCount with the
// generic loops (both reset modes, neurons exactly at threshold, layers wider
// than one 64-neuron group), sentinels after the ends included.
func checkWideSplit[F Float](t *testing.T, integ func(v, drive []F, leak F),
	fireRst func(v, threshold []F, spikes, counts []int32, zero bool) int,
	rstCount func(v, threshold []F, spikes, counts []int32, zero bool)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	for _, out := range []int{1, 2, 7, 8, 9, 15, 16, 17, 33, 63, 64, 65, 67, 130, 200} {
		for _, leak := range []F{1, 0.9} {
			for _, zero := range []bool{false, true} {
				v := make([]F, out+20)
				drive, th := make([]F, out), make([]F, out)
				for i := range v {
					v[i] = F(rng.NormFloat64())
				}
				for i := range drive {
					drive[i] = F(rng.NormFloat64() * 0.5)
					th[i] = F(0.5 + rng.Float64())
				}
				drive[0], v[0] = F(math.Copysign(0, -1)), F(math.Copysign(0, -1))
				want := slices.Clone(v)
				integrate(want[:out], drive, leak)
				integ(v[:out], drive, leak)
				if i := firstBitDiff(v, want); i >= 0 {
					t.Fatalf("%T integrate out=%d leak=%v: v[%d] = %v, generic %v", F(0), out, leak, i, v[i], want[i])
				}
				for i := 0; i < out; i += 3 {
					v[i], want[i] = th[i], th[i] // exactly at threshold
				}
				got, exp := make([]int32, out+20), make([]int32, out+20)
				gotC, expC := make([]int32, out+20), make([]int32, out+20)
				for i := range got {
					got[i], exp[i] = -7, -7
					gotC[i] = int32(i % 5)
					if i >= out {
						gotC[i] = -9
					}
					expC[i] = gotC[i]
				}
				kw, kg := fireReset(want[:out], th, exp[:out], expC[:out], zero), fireRst(v[:out], th, got[:out], gotC[:out], zero)
				if kg != kw || !slices.Equal(got[:kg], exp[:kw]) || !slices.Equal(got[out:], exp[out:]) {
					t.Fatalf("%T fireReset out=%d zero=%v: spikes %v, generic %v", F(0), out, zero, got, exp)
				}
				if !slices.Equal(gotC, expC) {
					t.Fatalf("%T fireReset out=%d zero=%v: counts %v, generic %v", F(0), out, zero, gotC, expC)
				}
				if i := firstBitDiff(v, want); i >= 0 {
					t.Fatalf("%T fireReset out=%d zero=%v: v[%d] = %v, generic %v", F(0), out, zero, i, v[i], want[i])
				}
				// resetCount on a random ascending subset, as after next-step columns.
				var spikes []int32
				for i := range out {
					if rng.IntN(3) == 0 {
						spikes = append(spikes, int32(i))
					}
				}
				resetAndCount(want[:out], th, zero, spikes, expC[:out])
				rstCount(v[:out], th, spikes, gotC[:out], zero)
				if !slices.Equal(gotC, expC) {
					t.Fatalf("%T resetCount out=%d zero=%v: counts %v, generic %v", F(0), out, zero, gotC, expC)
				}
				if i := firstBitDiff(v, want); i >= 0 {
					t.Fatalf("%T resetCount out=%d zero=%v: v[%d] = %v, generic %v", F(0), out, zero, i, v[i], want[i])
				}
			}
		}
	}
}

func checkWide[F Float](t *testing.T, add func(v, wt []F, spikes []int32),
	fire func(v, drive []F, leak F, threshold []F, spikes []int32) int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	const sentinel = 12345
	for _, out := range []int{1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130} {
		const in = 40
		wt := make([]F, in*out)
		for i := range wt {
			wt[i] = F(rng.NormFloat64())
		}
		for _, nSpikes := range []int{0, 1, 2, 7, 40} {
			spikes := make([]int32, nSpikes)
			for i := range spikes {
				spikes[i] = int32(rng.IntN(in))
			}
			slices.Sort(spikes)
			buf := make([]F, out+20)
			for i := range buf {
				buf[i] = F(rng.NormFloat64() * 1e3)
			}
			want := slices.Clone(buf)
			addColumns(want[:out], wt, spikes)
			add(buf[:out], wt, spikes)
			if i := firstBitDiff(buf, want); i >= 0 {
				t.Fatalf("%T addColumns out=%d spikes=%d: element %d = %v, generic %v", F(0), out, nSpikes, i, buf[i], want[i])
			}
		}
		for _, leak := range []F{1, 0.9, 0.5} {
			for trial := range 8 {
				v := make([]F, out+20)
				drive, th := make([]F, out), make([]F, out)
				for i := range v {
					v[i] = F(rng.NormFloat64())
				}
				for i := range drive {
					drive[i] = F(rng.NormFloat64() * 0.5)
					th[i] = F(0.5 + rng.Float64())
					if trial%2 == 0 && i%3 == 0 { // exactly at threshold
						v[i], drive[i] = th[i], 0
						if leak != 1 {
							v[i] = th[i] / leak
						}
					}
				}
				if trial == 1 {
					v[0], drive[0] = F(math.Copysign(0, -1)), F(math.Copysign(0, -1)) // -0 stays -0
				}
				want := slices.Clone(v)
				gotSpikes, wantSpikes := make([]int32, out+20), make([]int32, out+20)
				for i := out; i < len(gotSpikes); i++ {
					gotSpikes[i], wantSpikes[i] = sentinel, sentinel
				}
				kw := integrateAndFire(want[:out], drive, leak, th, wantSpikes[:out])
				kg := fire(v[:out], drive, leak, th, gotSpikes[:out])
				if kg != kw || !slices.Equal(gotSpikes[:kg], wantSpikes[:kw]) {
					t.Fatalf("%T integrateAndFire out=%d leak=%v: spikes %v, generic %v", F(0), out, leak, gotSpikes[:kg], wantSpikes[:kw])
				}
				if !slices.Equal(gotSpikes[out:], wantSpikes[out:]) {
					t.Fatalf("%T integrateAndFire out=%d: wrote past the spike list: %v", F(0), out, gotSpikes[out:])
				}
				if i := firstBitDiff(v, want); i >= 0 {
					t.Fatalf("%T integrateAndFire out=%d leak=%v: v[%d] = %v, generic %v", F(0), out, leak, i, v[i], want[i])
				}
			}
		}
	}
}

// TestStepNextKernelBitIdentical compares the AVX-512 next-step layer kernel
// with stepNext (the generic loops in sequence): membranes bit for bit, spike
// lists, counts, for widths around its 32- and 64-neuron blocks, both resets,
// leaks 1 and < 1, negative columns, and nothing written past the ends.
func TestStepNextKernelBitIdentical(t *testing.T) {
	if _, avx512 := lockstepKernels(); !avx512 {
		t.Skip("no AVX-512 here")
	}
	checkStepNext[float32](t, stepNextWide32)
	checkStepNext[float64](t, stepNextWide64)
}

func checkStepNext[F Float](t *testing.T, kernel func(v, drive, threshold, wt []F, leak F, pos, neg, counts, spikes []int32, zero bool) int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, out := range []int{1, 2, 5, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130} {
		const in = 23
		wt := make([]F, in*out)
		for i := range wt {
			wt[i] = F(rng.NormFloat64() * 0.4)
		}
		for trial := range 12 {
			leak, zero := F(1), trial%2 == 1
			if trial%3 == 2 {
				leak = 0.9
			}
			v := make([]F, out+20)
			drive, th := make([]F, out), make([]F, out)
			for i := range v {
				v[i] = F(rng.NormFloat64())
			}
			for i := range drive {
				drive[i] = F(rng.NormFloat64() * 0.5)
				th[i] = F(0.5 + rng.Float64())
				if trial%4 == 0 && i%3 == 0 { // exactly at threshold
					v[i], drive[i] = th[i], 0
					if leak != 1 {
						v[i] = th[i] / leak
					}
				}
			}
			v[out-1] = F(math.Copysign(0, -1))
			var pos, neg []int32
			for j := range in {
				switch rng.IntN(4) {
				case 0:
					pos = append(pos, int32(j))
				case 1:
					if trial >= 6 {
						neg = append(neg, int32(j))
					}
				}
			}
			want := slices.Clone(v)
			gotS, wantS := make([]int32, out+20), make([]int32, out+20)
			gotC, wantC := make([]int32, out+20), make([]int32, out+20)
			for i := range gotS {
				gotS[i], wantS[i] = -5, -5
				gotC[i], wantC[i] = int32(i%4), int32(i%4)
			}
			kw := stepNext(want[:out], drive, th, wt, leak, pos, neg, wantC[:out], wantS[:out], zero)
			kg := kernel(v[:out], drive, th, wt, leak, pos, neg, gotC[:out], gotS[:out], zero)
			if kg != kw || !slices.Equal(gotS[:kg], wantS[:kw]) || !slices.Equal(gotS[out:], wantS[out:]) {
				t.Fatalf("%T out=%d trial %d: spikes %v, generic %v", F(0), out, trial, gotS, wantS)
			}
			if !slices.Equal(gotC, wantC) {
				t.Fatalf("%T out=%d trial %d: counts %v, generic %v", F(0), out, trial, gotC, wantC)
			}
			if i := firstBitDiff(v, want); i >= 0 {
				t.Fatalf("%T out=%d trial %d: v[%d] = %v, generic %v", F(0), out, trial, i, v[i], want[i])
			}
		}
	}
}
