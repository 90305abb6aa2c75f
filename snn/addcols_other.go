//go:build !amd64

package snn

func addColumns32(v, wt []float32, spikes []int32) { addColumns(v, wt, spikes) }
