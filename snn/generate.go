package snn

// The AVX kernels (lockstep_amd64.s, addcols512_amd64.s) are generated from
// one template; regenerate them with `go generate ./snn` and check them bit
// for bit against the generic loops with `go test ./snn`.
//go:generate python3 asmgen.py
