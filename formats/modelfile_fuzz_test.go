package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
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
