package train

import "github.com/spikebridge/spikebridge/model"

// adamAVX selects the AVX kernel (on CPUs with AVX2 and FMA, the set
// model's kernels use; the kernel itself needs only AVX). It does the scalar loop's float32
// operations in the same order without fusing (VSQRTPS is the correctly
// rounded float32 square root, as float32(math.Sqrt(float64(v))) is), so the
// two give the same bits (TestAdamKernelMatchesScalar).
var adamAVX = model.HasAVX2FMA()

// adamStepAVX8 applies the Adam step to the first len(p)/8*8 elements of p,
// m, v from g (all at least that long); c holds b1, 1-b1, b2, 1-b2,
// sqrt(1-b2^t), eps and lr/(1-b1^t).
//
//go:noescape
func adamStepAVX8(p, g, m, v []float32, c *[7]float32)

func adamStepVec(p, g, m, v []float32, c *[7]float32) int {
	n := len(p) &^ 7
	if !adamAVX || n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	adamStepAVX8(p[:n], g, m, v, c)
	return n
}
