package train

import "github.com/spikebridge/spikebridge/model"

// vecMatAVX selects the AVX kernels (vecmat_amd64.s, dotorder_amd64.s) on
// CPUs with AVX2 and FMA, the set model's kernels use (these need only AVX);
// they give the portable loops' bits (TestVecMatUnfusedMatchesGonum,
// TestDotsUnitaryOrderMatchesGonum).
var vecMatAVX = model.HasAVX2FMA()

//go:noescape
func vecMatUnfusedAVX(dst, wt, x []float32)

//go:noescape
func dotsUnitaryOrderAVX(dst, a, bt []float32)
