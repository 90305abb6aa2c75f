package train

import (
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
	return probe.MaskedMSE(s, predict)
}
