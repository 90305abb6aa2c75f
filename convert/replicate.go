package convert

import (
	"fmt"

	"github.com/spikebridge/spikebridge/snn"
)

// Replicate returns s with every spiking neuron replaced by k copies that
// start at staggered membranes v(0) = (j + 1/2)/k of the threshold, j = 0..k-1,
// and whose spikes reach the next layer with 1/k of the weight. For a
// constant input current c the copies round c T at k different phases, so
// their summed rate resolves c to 1/(k T) instead of 1/T: the T-step
// network behaves like a k-times longer one on its decisions (population
// rate coding), at k times the spikes. The readout layer is not copied.
// k = 1 returns s.
func Replicate(s *snn.Network, k int) (*snn.Network, error) {
	if k < 1 {
		return nil, fmt.Errorf("convert: replicate: %d copies, want >= 1", k)
	}
	if k == 1 {
		return s, nil
	}
	if s.Readout != snn.Membrane {
		return nil, fmt.Errorf("convert: replicate: readout %q, want a membrane readout", s.Readout)
	}
	spec := *s
	spec.Layers = make([]snn.Layer, len(s.Layers))
	kPrev := 1
	for l, layer := range s.Layers {
		last := l == len(s.Layers)-1
		kOut := k
		if last {
			kOut = 1
		}
		in, out := layer.In*kPrev, layer.Out*kOut
		w := make([]float32, in*out)
		var b []float32
		if layer.Bias != nil {
			b = make([]float32, out)
		}
		scale := 1 / float32(kPrev)
		for o := 0; o < layer.Out; o++ {
			for j := 0; j < kOut; j++ {
				row := w[(o*kOut+j)*in : (o*kOut+j+1)*in]
				for i := 0; i < layer.In; i++ {
					for m := 0; m < kPrev; m++ {
						row[i*kPrev+m] = layer.Weights[o*layer.In+i] * scale
					}
				}
				if b != nil {
					b[o*kOut+j] = layer.Bias[o]
				}
			}
		}
		nl := layer
		nl.In, nl.Out, nl.Weights, nl.Bias = in, out, w, b
		if !last {
			nl.Thresholds, nl.InitialMembranes = nil, make([]float32, out)
			if layer.Thresholds != nil {
				nl.Thresholds = make([]float32, out)
			}
			for o := 0; o < layer.Out; o++ {
				th := layer.Threshold
				if layer.Thresholds != nil {
					th = layer.Thresholds[o]
				}
				for j := 0; j < kOut; j++ {
					if nl.Thresholds != nil {
						nl.Thresholds[o*kOut+j] = th
					}
					nl.InitialMembranes[o*kOut+j] = (float32(j) + 0.5) / float32(kOut) * th
				}
			}
		}
		spec.Layers[l] = nl
		kPrev = kOut
	}
	out, err := snn.New(spec)
	if err != nil {
		return nil, fmt.Errorf("convert: replicate: %w", err)
	}
	return out, nil
}
