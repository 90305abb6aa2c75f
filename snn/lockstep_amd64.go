package snn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func lockLayer64(a *lockArgs)

//go:noescape
func lockEncode64(a *lockEncArgs)

//go:noescape
func lockLayer32(a *lockArgs)

//go:noescape
func lockEncode32(a *lockEncArgs)

//go:noescape
func lockLayer64x(a *lockArgs)

//go:noescape
func lockEncode64x(a *lockEncArgs)

//go:noescape
func lockLayer32x(a *lockArgs)

//go:noescape
func lockEncode32x(a *lockEncArgs)

// lockstepKernels says which lockstep kernels run here: the AVX ones, and the
// AVX-512 ones.
func lockstepKernels() (avx, avx512 bool) { return cpu.X86.HasAVX, cpu.X86.HasAVX512F }

// lockLayer advances one layer of a lockstep chunk by one step.
func lockLayer[F Float](a *lockArgs, wide bool) {
	switch {
	case unsafe.Sizeof(F(0)) == 4 && wide:
		lockLayer32x(a)
	case unsafe.Sizeof(F(0)) == 4:
		lockLayer32(a)
	case wide:
		lockLayer64x(a)
	default:
		lockLayer64(a)
	}
}

// lockEncode advances the Rate encoder of a lockstep chunk by one step.
func lockEncode[F Float](a *lockEncArgs, wide bool) {
	switch {
	case unsafe.Sizeof(F(0)) == 4 && wide:
		lockEncode32x(a)
	case unsafe.Sizeof(F(0)) == 4:
		lockEncode32(a)
	case wide:
		lockEncode64x(a)
	default:
		lockEncode64(a)
	}
}
