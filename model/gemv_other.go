//go:build !amd64

package model

func gemvT(dst, wt, x []float32) { gemvTGeneric(dst, wt, x) }
