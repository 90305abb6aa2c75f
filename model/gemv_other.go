//go:build !amd64

package model

func gemv(dst, w, x []float32) { gemvGeneric(dst, w, x) }
