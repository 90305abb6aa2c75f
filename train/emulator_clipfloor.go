package train

import "github.com/spikebridge/spikebridge/model"

// ClipFloorPredictor is model.ClipFloorPredictor, kept for the callers
// that have not moved to it yet.
func ClipFloorPredictor(net *model.Network, levels int) func(dst, x []float32) {
	return model.ClipFloorPredictor(net, levels)
}
