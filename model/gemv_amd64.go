package model

import "golang.org/x/sys/cpu"

// hasFMA selects the AVX2+FMA kernel; both kernels round every multiply-add
// once, so they give bit-identical results.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func gemvTFMA(dst, wt, x []float32)

func gemvT(dst, wt, x []float32) {
	if len(wt) < len(dst)*len(x) {
		panic("model: gemvT: weight matrix too small")
	}
	if hasFMA {
		gemvTFMA(dst, wt, x)
		return
	}
	gemvTGeneric(dst, wt, x)
}
