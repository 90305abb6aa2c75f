package train

import "fmt"

// dotsUnitaryOrder computes dst[j] = sum over k of a[k]*bt[k*len(dst)+j]
// for every j, each sum in the order and rounding of gonum's float32
// DotUnitary on 16-byte-aligned operands: products rounded alone, added
// into four "SUM" and four "P_SUM" lanes (k mod 16 in 0-3 and 8-11 go to
// SUM lane k mod 4, 4-7 and 12-15 to P_SUM), P_SUM added into SUM after the
// blocks of 16, a tail of whole fours into SUM, single leftovers into lane 0,
// and the lanes combined as (S0 + S1) + (S2 + S3). With bt the transpose of
// B, dst is a row of A Bᵀ exactly as gonum's GEMM computes it (one
// DotUnitary per element), so the weight gradients keep the bits of the
// Gorgonia MatMul this trainer was first built on, eight outputs at a time.
func dotsUnitaryOrder(dst, a, bt []float32) {
	if len(bt) < len(a)*len(dst) {
		panic(fmt.Sprintf("train: dotsUnitaryOrder: matrix holds %d values, want %d*%d", len(bt), len(a), len(dst)))
	}
	if len(dst) == 0 {
		return
	}
	if vecMatAVX {
		dotsUnitaryOrderAVX(dst, a, bt)
		return
	}
	dotsUnitaryOrderGeneric(dst, a, bt)
}

// dotsUnitaryOrderGeneric is the portable kernel, one output at a time.
func dotsUnitaryOrderGeneric(dst, a, bt []float32) {
	n, k := len(dst), len(a)
	for j := range dst {
		var sum, psum [4]float32
		p := func(i int) float32 { return float32(a[i] * bt[i*n+j]) }
		i := 0
		for ; i+16 <= k; i += 16 {
			for l := 0; l < 4; l++ {
				sum[l] += p(i + l)
				psum[l] += p(i + 4 + l)
				sum[l] += p(i + 8 + l)
				psum[l] += p(i + 12 + l)
			}
		}
		if k >= 16 {
			for l := range sum {
				sum[l] += psum[l]
			}
		}
		for ; i+4 <= k; i += 4 {
			for l := 0; l < 4; l++ {
				sum[l] += p(i + l)
			}
		}
		for ; i < k; i++ {
			sum[0] += p(i)
		}
		dst[j] = (sum[0] + sum[1]) + (sum[2] + sum[3])
	}
}
