package model

import "math"

// ClipFloorPredictor returns a predictor (dst, x) of an MLP trained with
// clip-floor activations (a classifier or emulator trained with ClipFloor > 0): every hidden
// activation is clip(z, 0, 1), rounded to levels levels when levels > 0
// (training mode, floor(levels a + 1/2) / levels); levels <= 0 clips only,
// the T → ∞ limit of its SNN with unit scales. It reads net's layers at
// every call (so it follows Refresh after training updates) and allocates
// nothing per call; it is not safe for concurrent use.
func ClipFloorPredictor(net *Network, levels int) func(dst, x []float32) {
	width := 0
	for _, l := range net.Layers() {
		width = max(width, l.Out)
	}
	a, b := make([]float32, width), make([]float32, width)
	nDense := len(net.Sizes()) - 1
	return func(dst, x []float32) {
		cur := x
		dense := 0
		for _, l := range net.Layers() {
			if l.Kind != Dense {
				continue
			}
			dense++
			out := a[:l.Out]
			if dense == nDense {
				out = dst[:l.Out]
			}
			for o := range out {
				sum := float32(0)
				for i, w := range l.Weights[o*l.In : (o+1)*l.In] {
					sum += w * cur[i]
				}
				if l.Bias != nil {
					sum += l.Bias[o]
				}
				if dense < nDense {
					sum = min(max(sum, 0), 1)
					if levels > 0 {
						sum = float32(math.Floor(float64(sum)*float64(levels)+0.5)) / float32(levels)
					}
				}
				out[o] = sum
			}
			cur = out
			a, b = b, a
		}
	}
}
