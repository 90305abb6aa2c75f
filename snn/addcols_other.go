//go:build !amd64

package snn

func addColumns32(v, wt []float32, spikes []int32) { addColumns(v, wt, spikes) }

func integrateAndFire32(v, drive []float32, leak float32, threshold []float32, spikes []int32) int {
	return integrateAndFire(v, drive, leak, threshold, spikes)
}

func addColumns64(v, wt []float64, spikes []int32) { addColumns(v, wt, spikes) }

func addColumnsWide32(v, wt []float32, spikes []int32) { addColumns(v, wt, spikes) }

func addColumnsWide64(v, wt []float64, spikes []int32) { addColumns(v, wt, spikes) }

func integrateAndFireWide32(v, drive []float32, leak float32, threshold []float32, spikes []int32) int {
	return integrateAndFire(v, drive, leak, threshold, spikes)
}

func integrateAndFireWide64(v, drive []float64, leak float64, threshold []float64, spikes []int32) int {
	return integrateAndFire(v, drive, leak, threshold, spikes)
}

func integrateWide32(v, drive []float32, leak float32) { integrate(v, drive, leak) }

func integrateWide64(v, drive []float64, leak float64) { integrate(v, drive, leak) }

func fireResetWide32(v, threshold []float32, spikes, counts []int32, zero bool) int {
	return fireReset(v, threshold, spikes, counts, zero)
}

func fireResetWide64(v, threshold []float64, spikes, counts []int32, zero bool) int {
	return fireReset(v, threshold, spikes, counts, zero)
}

func resetCountWide32(v, threshold []float32, spikes, counts []int32, zero bool) {
	resetAndCount(v, threshold, zero, spikes, counts)
}

func resetCountWide64(v, threshold []float64, spikes, counts []int32, zero bool) {
	resetAndCount(v, threshold, zero, spikes, counts)
}

func stepNextWide32(v, drive, threshold, wt []float32, leak float32, pos, neg, counts, spikes []int32, zero bool) int {
	return stepNext(v, drive, threshold, wt, leak, pos, neg, counts, spikes, zero)
}

func stepNextWide64(v, drive, threshold, wt []float64, leak float64, pos, neg, counts, spikes []int32, zero bool) int {
	return stepNext(v, drive, threshold, wt, leak, pos, neg, counts, spikes, zero)
}
