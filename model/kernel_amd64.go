package model

// HasAVX2FMA reports whether this CPU runs VecMat's AVX2+FMA kernel (other
// packages' vector kernels use it to pick their code path too).
func HasAVX2FMA() bool { return hasFMA }
