package train

import "golang.org/x/sys/cpu"

// vecMatAVX selects the AVX kernel (vecmat_amd64.s), which gives the
// portable loop's bits (TestVecMatUnfusedMatchesGonum).
var vecMatAVX = cpu.X86.HasAVX

//go:noescape
func vecMatUnfusedAVX(dst, wt, x []float32)

//go:noescape
func dotsUnitaryOrderAVX(dst, a, bt []float32)
