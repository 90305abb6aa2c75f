package model

import "fmt"

// VecMat computes dst = x M for the row-major matrix m of len(x) rows and
// len(dst) columns: dst[o] = sum over k of x[k] m[k*len(dst)+o], each output a
// chain of fused multiply-adds in k order starting from zero. It is the
// kernel under Forward (AVX2+FMA where the CPU has it, bit-identical portable
// Go elsewhere); trainers use it for row-by-row matrix products. It panics when
// m is shorter than len(x)*len(dst) and allocates nothing.
func VecMat(dst, x, m []float32) {
	if len(m) < len(x)*len(dst) {
		panic(fmt.Sprintf("model: VecMat: matrix holds %d values, want %d*%d", len(m), len(x), len(dst)))
	}
	if len(dst) == 0 {
		return
	}
	gemvT(dst, m, x)
}
