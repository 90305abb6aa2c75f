//go:build !amd64

package snn

// lockstepKernels: the lockstep kernels are amd64 assembly only.
func lockstepKernels() (avx, avx512 bool) { return false, false }

func lockLayer[F Float](a *lockArgs, wide bool) {
	panic("snn: no lockstep kernels on this architecture")
}

func lockEncode[F Float](a *lockEncArgs, wide bool) {
	panic("snn: no lockstep kernels on this architecture")
}
