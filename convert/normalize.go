package convert

import (
	"fmt"
	"strconv"

	"github.com/spikebridge/spikebridge/model"
)

// Normalized returns net with every hidden neuron rescaled by its
// percentile activation on calib (NeuronWise λ, as Convert computes them):
// W_l λ_{l-1} / λ_l, b_l / λ_l, the output layer W_L λ_{L-1}. A ReLU
// network is positively homogeneous, so the result computes net's outputs
// (up to rounding) while its hidden activations on calib stay at most 1 for
// percentile 100: a student that starts as the teacher and is converted
// with unit scales, where the threshold 1 is the clip its training adds.
// net must be Dense (ReLU Dense)* [Identity], as for Convert.
func Normalized(net *model.Network, calib States, percentile float64) (*model.Network, error) {
	if !(percentile > 0 && percentile <= 100) {
		return nil, fmt.Errorf("convert: percentile %v, want a value in (0, 100] (100 = max)", percentile)
	}
	st, err := stackOf(net)
	if err != nil {
		return nil, err
	}
	if err := calib.Check(net.InputSize()); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	widths := make([]int, len(st.layers)-1)
	for l := range widths {
		widths[l] = st.layers[l].Out
	}
	lambda := scales(st.activations(calib), widths, NeuronWise, percentile)
	var layers []model.Layer
	for l, d := range st.layers {
		hidden := l+1 < len(st.layers)
		w, b := rescaled(d, l, lambda, hidden)
		name := d.Name
		if name == "" {
			name = "fc" + strconv.Itoa(l+1)
		}
		layers = append(layers, model.NewDense(name, d.In, d.Out, w, b))
		if hidden {
			layers = append(layers, model.NewActivation("relu"+strconv.Itoa(l+1), model.ReLU, d.Out))
		}
	}
	out, err := model.New(layers)
	if err != nil {
		return nil, fmt.Errorf("convert: normalised network: %w", err)
	}
	return out, nil
}
