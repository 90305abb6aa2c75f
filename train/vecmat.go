package train

import "fmt"

// vecMatUnfused computes dst = x M for the row-major matrix m of len(x)
// rows and len(dst) columns, like model.VecMat, but with every product and
// every sum rounded separately (no fused multiply-add), accumulating over k
// in order from zero. That is exactly what gonum's float32 GEMM computes for
// C = A B and C = Aᵀ B (one axpy per k), the kernels under the Gorgonia
// MatMul this trainer was first built on, so the loss graph's products keep
// the bits, and the training runs, of that first version.
func vecMatUnfused(dst, x, m []float32) {
	if len(m) < len(x)*len(dst) {
		panic(fmt.Sprintf("train: vecMatUnfused: matrix holds %d values, want %d*%d", len(m), len(x), len(dst)))
	}
	if len(dst) == 0 {
		return
	}
	if vecMatAVX {
		vecMatUnfusedAVX(dst, m, x)
		return
	}
	vecMatUnfusedGeneric(dst, x, m)
}

// vecMatUnfusedGeneric is the portable kernel. The explicit float32
// conversion rounds the product before the sum (Go may otherwise fuse them
// into one FMA on some architectures).
func vecMatUnfusedGeneric(dst, x, m []float32) {
	out := len(dst)
	clear(dst)
	for k, xk := range x {
		row := m[k*out:][:out]
		for o, w := range row {
			dst[o] += float32(xk * w)
		}
	}
}
