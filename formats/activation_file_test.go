package formats

import (
	"bytes"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// TestModelFileActivations round-trips every activation kind, with its alpha,
// through a model file and checks the forward pass is unchanged bit for bit.
func TestModelFileActivations(t *testing.T) {
	w := []float32{0.5, -1.25, 2, 0.75, -0.5, 1.5}
	var layers []model.Layer
	for i, act := range []model.Layer{
		model.NewActivation("tanh", model.Tanh, 2), model.NewActivation("sigmoid", model.Sigmoid, 2),
		model.NewParamActivation("leaky", model.LeakyReLU, 2, 0.01), model.NewParamActivation("elu", model.ELU, 2, 0.7),
	} {
		layers = append(layers, model.NewDense("fc"+string(rune('1'+i)), 2, 2, w[:4], w[4:]), act)
	}
	net, err := model.New(layers)
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeModel(net, ModelMeta{})
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadModel(bytes.NewReader(data), int64(len(data)), "act.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range back.Layers() {
		if l.Kind != layers[i].Kind || l.Alpha != layers[i].Alpha {
			t.Errorf("layer %d: %s alpha %v, want %s alpha %v", i, l.Kind, l.Alpha, layers[i].Kind, layers[i].Alpha)
		}
	}
	x := []float32{-3, 0.4}
	a, b := make([]float32, 2), make([]float32, 2)
	net.Forward(a, x, net.NewWorkspace(1))
	back.Forward(b, x, back.NewWorkspace(1))
	if a[0] != b[0] || a[1] != b[1] {
		t.Errorf("forward after the round trip %v, before %v", b, a)
	}
}
