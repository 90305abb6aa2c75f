package model

import "math"

// activate writes the element-wise activation of x into dst.
//
// Tanh, Sigmoid and ELU are computed in float64 and rounded once to float32:
// the float64 functions are accurate to about 1 ulp of float64, so the result
// is the correctly rounded float32 value except in rare double-rounding cases
// (then 1 ulp off). PyTorch's float32 CPU kernels (SLEEF-based vectorised
// tanh/exp, within 1 ulp of the correctly rounded value) therefore differ from
// ours by at most about 1 ulp; the import fixtures measure it. LeakyReLU is
// PyTorch's own float32 arithmetic (x, or one rounded product), bit-exact.
func activate(dst, x []float32, kind Kind, alpha float32) {
	dst = dst[:len(x)]
	switch kind {
	case Tanh:
		for i, v := range x {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	case Sigmoid:
		for i, v := range x {
			dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case LeakyReLU:
		for i, v := range x {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = v * alpha
			}
		}
	case ELU:
		a := float64(alpha)
		for i, v := range x {
			if v > 0 {
				dst[i] = v
			} else {
				dst[i] = float32(a * math.Expm1(float64(v)))
			}
		}
	}
}
