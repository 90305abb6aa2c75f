//go:build !amd64

package snn

// lockstepKernels: the lockstep kernels are amd64 assembly only.
func lockstepKernels[F Float]() bool { return false }

func lockLayer[F Float](a *lockArgs) { panic("snn: no lockstep kernels on this architecture") }

func lockEncode[F Float](a *lockEncArgs) { panic("snn: no lockstep kernels on this architecture") }
