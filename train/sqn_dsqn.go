package train

import (
	"fmt"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// DSQNNetwork runs a network with the DSQN repository's semantics in the snn
// simulator: its dense layers (as formats.TorchToNetwork imports DSQN's
// weight lists) become IF neurons with threshold 1, β = 1, α = 0, reset by
// subtraction from v(0) = 0, each layer's membrane integrating the previous
// step's synaptic current x W + b, and Q = the output layer's membrane after
// T steps. Activation layers in net are ignored (the neurons replace them).
//
// DSQN's T steps are snn's next-step schedule over T - 2 steps: DSQN's first
// step integrates a zero current (the input reaches the first layer one step
// late) and its output membrane never receives the last step's spikes. So
// the returned network has Timesteps T - 2 and OutputScale T - 2 (its output
// is the output membrane). DSQN's Heaviside is strict (spike when v > 1):
// the hidden layers are snn's strict-threshold layers, so a membrane that
// lands exactly on 1 does not fire, as in DSQN.
//
// biasInput says that the network's last input is DSQN's constant 1 (bias as
// an extra observation, as sqn_torch.py): its weights become the first
// layer's bias and the returned network takes one input less.
func DSQNNetwork(net *model.Network, T int, biasInput bool) (*snn.Network, error) {
	if T < 3 {
		return nil, fmt.Errorf("train: DSQN network: T = %d, want >= 3 (DSQN's first and last steps do not reach the output)", T)
	}
	var dense []model.Layer
	for _, l := range net.Layers() {
		if l.Kind == model.Dense {
			dense = append(dense, l)
		}
	}
	if len(dense) < 2 {
		return nil, fmt.Errorf("train: DSQN network %s: %d dense layers, want at least 2 (hidden and output)", net, len(dense))
	}
	spec := snn.Network{Input: snn.InputOf[float32]{Encoding: snn.Analog, Gain: 1}, Timesteps: T - 2,
		Propagation: snn.NextStep, Readout: snn.Membrane, OutputScale: float32(T - 2)}
	for i, l := range dense {
		layer := snn.Layer{Name: l.Name, In: l.In, Out: l.Out, Weights: l.Weights, Bias: l.Bias,
			Threshold: 1, Leak: 1, Reset: snn.ResetSubtract, StrictThreshold: true}
		if i == 0 && biasInput {
			if l.In < 2 {
				return nil, fmt.Errorf("train: DSQN network: layer %q has %d inputs, too few to hold a bias input", l.Name, l.In)
			}
			in := l.In - 1
			layer.In = in
			layer.Weights = make([]float32, in*l.Out)
			layer.Bias = make([]float32, l.Out)
			for o := 0; o < l.Out; o++ {
				copy(layer.Weights[o*in:(o+1)*in], l.Weights[o*l.In:o*l.In+in])
				layer.Bias[o] = l.Weights[o*l.In+in]
				if l.Bias != nil {
					layer.Bias[o] += l.Bias[o]
				}
			}
		}
		if i == len(dense)-1 {
			for o, b := range l.Bias {
				if b != 0 {
					// DSQN's output membrane adds its bias T-1 times, snn's
					// integrator T-2 times: no exact equivalent.
					return nil, fmt.Errorf("train: DSQN network: output layer %q has a non-zero bias [%d] = %g, which DSQN-compatible mode cannot represent exactly", l.Name, o, b)
				}
			}
			layer.Bias = nil
		}
		spec.Layers = append(spec.Layers, layer)
	}
	s, err := snn.New(spec)
	if err != nil {
		return nil, fmt.Errorf("train: DSQN network: %w", err)
	}
	return s, nil
}
