package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// FuzzReadModel feeds arbitrary bytes to the model and safetensors readers:
// they must return an error or a network, never panic, hang or allocate
// more than the input's size; a network read back must survive a re-encode.
func FuzzReadModel(f *testing.F) {
	for _, name := range []string{"tiny_mlp.safetensors", "python_mlp.safetensors"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, sizes := range [][]int{{4, 8, 2}, {4, 3, 3, 2}} {
		data, err := EncodeModel(randomMLP(f, 7, sizes...), CartPoleQMeta())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range badModelCases(f) {
		f.Add(tc.data)
	}
	// Every activation kind, with alpha (imported Tanh, LeakyReLU, ... networks).
	acts, err := model.New([]model.Layer{
		model.NewDense("fc1", 2, 2, []float32{1, -1, 0.5, 2}, []float32{0.1, -0.2}), model.NewActivation("tanh1", model.Tanh, 2),
		model.NewDense("fc2", 2, 2, []float32{1, 0, 0, 1}, nil), model.NewParamActivation("leaky2", model.LeakyReLU, 2, 0.01),
		model.NewDense("fc3", 2, 2, []float32{1, 0, 0, 1}, nil), model.NewParamActivation("elu3", model.ELU, 2, 0.5),
		model.NewDense("fc4", 2, 2, []float32{1, 0, 0, 1}, nil), model.NewActivation("out", model.Sigmoid, 2)})
	if err != nil {
		f.Fatal(err)
	}
	if data, err := EncodeModel(acts, ModelMeta{}); err == nil {
		f.Add(data)
	} else {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ReadSafetensors(bytes.NewReader(data), int64(len(data)), "fuzz.safetensors"); err != nil {
			return
		}
		net, meta, err := ReadModel(bytes.NewReader(data), int64(len(data)), "fuzz.safetensors")
		if err != nil {
			return
		}
		again, err := EncodeModel(net, meta)
		if err != nil {
			t.Fatalf("a model that loads does not encode: %v", err)
		}
		net2, _, err := ReadModel(bytes.NewReader(again), int64(len(again)), "again.safetensors")
		if err != nil {
			t.Fatalf("re-encoded model does not load: %v", err)
		}
		if net2.String() != net.String() || len(net2.Layers()) != len(net.Layers()) {
			t.Fatalf("re-encoded model %s, want %s", net2, net)
		}
		for i, l := range net.Layers() {
			assertBitIdentical(t, l.Name+".weight", net2.Layers()[i].Weights, l.Weights)
			assertBitIdentical(t, l.Name+".bias", net2.Layers()[i].Bias, l.Bias)
		}
	})
}
