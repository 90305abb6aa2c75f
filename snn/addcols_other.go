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

func fireWide32(v, threshold []float32, spikes []int32) int { return fire(v, threshold, spikes) }

func fireWide64(v, threshold []float64, spikes []int32) int { return fire(v, threshold, spikes) }
