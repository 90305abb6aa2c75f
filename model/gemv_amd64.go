package model

// gemvSSE is gemvGeneric in SSE assembly (gemv_amd64.s); SSE2 is part of the
// amd64 baseline, so no feature check is needed.
//
//go:noescape
func gemvSSE(dst, w, x []float32)

func gemv(dst, w, x []float32) {
	if len(w) < len(dst)*len(x) {
		panic("model: gemv: weight matrix too small")
	}
	gemvSSE(dst, w, x)
}
