//go:build !amd64

package train

var vecMatAVX = false

func vecMatUnfusedAVX(dst, wt, x []float32) { panic("train: no AVX kernel on this architecture") }

func dotsUnitaryOrderAVX(dst, a, bt []float32) { panic("train: no AVX kernel on this architecture") }
