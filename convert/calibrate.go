package convert

import (
	"fmt"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// Calibrate corrects the biases of s, the conversion of net with hidden
// scales lambda, at T steps on the calibration states: layer by layer, it
// adds to every neuron's bias the mean difference between the ANN's
// normalised activation (clipped to [0, 1], the most an IF neuron can
// fire) and the neuron's spike rate, so that the quantisation error of the
// layers below no longer shifts its rate on average; the output integrator
// gets the mean Q difference in the ANN's units. rounds repeats the sweep.
// It returns a new network; s is not changed.
func Calibrate(net *model.Network, s *snn.Network, calib States, T, rounds int, lambda [][]float32) (*snn.Network, error) {
	if T <= 0 {
		return nil, fmt.Errorf("convert: calibrate: timesteps %d, want T > 0", T)
	}
	st, err := stackOf(net)
	if err != nil {
		return nil, err
	}
	if err := calib.Check(net.InputSize()); err != nil {
		return nil, fmt.Errorf("convert: calibrate: %w", err)
	}
	if len(s.Layers) != len(st.layers) || len(lambda) != len(st.layers)-1 {
		return nil, fmt.Errorf("convert: calibrate: the SNN has %d layers and %d scales, the ANN %d dense layers",
			len(s.Layers), len(lambda), len(st.layers))
	}
	acts := st.activations(calib)
	rows := calib.Rows()
	q := make([]float32, rows*net.OutputSize())
	ws := net.NewWorkspace(1)
	for r := 0; r < rows; r++ {
		net.Forward(q[r*net.OutputSize():(r+1)*net.OutputSize()], calib.Row(r), ws)
	}
	spec := *s
	spec.Layers = make([]snn.Layer, len(s.Layers))
	for l, layer := range s.Layers {
		spec.Layers[l] = layer
		spec.Layers[l].Bias = make([]float32, layer.Out)
		copy(spec.Layers[l].Bias, layer.Bias)
	}
	cur := s
	for round := 0; round < rounds; round++ {
		for l := range spec.Layers {
			width := spec.Layers[l].Out
			errSum := make([]float64, width)
			out := make([]float32, cur.OutputSize())
			state := cur.NewState(1)
			for r := 0; r < rows; r++ {
				if _, err := cur.Run(out, calib.Row(r), state, T); err != nil {
					return nil, fmt.Errorf("convert: calibrate: state %d: %w", r, err)
				}
				if l == len(spec.Layers)-1 {
					for o := range errSum {
						errSum[o] += float64(q[r*width+o] - out[o])
					}
					continue
				}
				counts := state.Counts(0, l)
				for o := range errSum {
					target := min(acts[l][r*width+o]/lambda[l][o], 1)
					errSum[o] += float64(target - float32(counts[o])/float32(T))
				}
			}
			for o := range errSum {
				spec.Layers[l].Bias[o] += float32(errSum[o] / float64(rows))
			}
			if cur, err = snn.New(spec); err != nil {
				return nil, fmt.Errorf("convert: calibrate: layer %d: %w", l, err)
			}
		}
	}
	return cur, nil
}
