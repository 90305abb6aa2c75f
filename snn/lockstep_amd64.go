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

// lockstepKernels says whether the lockstep kernels run here (they need AVX).
func lockstepKernels[F Float]() bool { return cpu.X86.HasAVX }

// lockLayer advances one layer of a lockstep chunk by one step.
func lockLayer[F Float](a *lockArgs) {
	if unsafe.Sizeof(F(0)) == 4 {
		lockLayer32(a)
	} else {
		lockLayer64(a)
	}
}

// lockEncode advances the Rate encoder of a lockstep chunk by one step.
func lockEncode[F Float](a *lockEncArgs) {
	if unsafe.Sizeof(F(0)) == 4 {
		lockEncode32(a)
	} else {
		lockEncode64(a)
	}
}
