package train

import (
	"math"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/probe"
)

// MaskedMSE is the mean of (net(x) - y)² over the non-NaN targets of s, in
// float64: the loss the emulators minimise (missing targets count nothing).
func MaskedMSE(net *model.Network, s *probe.Samples, ws *model.Workspace) float64 {
	return MaskedMSEOf(func(dst, x []float32) { net.Forward(dst, x, ws) }, s)
}

// MaskedMSEOf is MaskedMSE of any predictor (dst, x) of s's sizes.
func MaskedMSEOf(predict func(dst, x []float32), s *probe.Samples) float64 {
	pred := make([]float32, s.Out)
	sum, n := 0.0, 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		predict(pred, x)
		for i, v := range y {
			if math.IsNaN(float64(v)) {
				continue
			}
			e := float64(pred[i]) - float64(v)
			sum += e * e
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
