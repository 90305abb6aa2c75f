//go:build !amd64

package model

// HasAVX2FMA reports whether this CPU runs VecMat's AVX2+FMA kernel: never
// on this architecture.
func HasAVX2FMA() bool { return false }
