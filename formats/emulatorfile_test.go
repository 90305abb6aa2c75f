package formats

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFloat32TensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emu.safetensors")
	in := []Float32Tensor{
		{Name: "w", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, math.SmallestNonzeroFloat32, -0, 6}},
		{Name: "b", Shape: []int{2}, Data: []float32{0.1, 0.2}},
	}
	meta := map[string]string{EmulatorMetadataKey: `{"hidden":2}`}
	if err := SaveFloat32Tensors(path, in, meta); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	got, gotMeta, err := LoadFloat32Tensors(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range in {
		g := got[want.Name]
		if !slices.Equal(g.Shape, want.Shape) || !slices.Equal(g.Data, want.Data) {
			t.Errorf("tensor %q: %v %v, want %v %v", want.Name, g.Shape, g.Data, want.Shape, want.Data)
		}
	}
	if gotMeta[EmulatorMetadataKey] != meta[EmulatorMetadataKey] {
		t.Errorf("metadata %v", gotMeta)
	}
	if err := SaveFloat32Tensors(path, in, meta); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(path); string(first) != string(second) {
		t.Error("saving twice gives different bytes")
	}
	for _, tc := range []struct {
		name    string
		tensors []Float32Tensor
		want    string
	}{
		{"bad shape", []Float32Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1}}}, `tensor "w": shape [2 2] holds 4 values, got 1`},
		{"duplicate", []Float32Tensor{in[1], in[1]}, `tensor "b" given twice`},
	} {
		if err := SaveFloat32Tensors(path, tc.tensors, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	nanPath := filepath.Join(t.TempDir(), "nan.safetensors")
	SaveFloat32Tensors(nanPath, []Float32Tensor{{Name: "w", Shape: []int{1}, Data: []float32{float32(math.NaN())}}}, nil)
	if _, _, err := LoadFloat32Tensors(nanPath); err == nil || !strings.Contains(err.Error(), `tensor "w" value 0 is NaN`) {
		t.Errorf("NaN tensor: error %v", err)
	}
}

// FuzzLoadFloat32Tensors feeds arbitrary bytes as an emulator weight file:
// the loader returns an error or tensors whose sizes match their shapes and
// whose values are finite, never a panic. Seeded with a real file.
func FuzzLoadFloat32Tensors(f *testing.F) {
	seed := filepath.Join(f.TempDir(), "seed.safetensors")
	in := []Float32Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, -2, 3, 4}}, {Name: "b", Shape: []int{2}, Data: []float32{0.5, -0.5}}}
	if err := SaveFloat32Tensors(seed, in, map[string]string{EmulatorMetadataKey: `{"kind":"rate"}`}); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(seed)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "emu.safetensors")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, _, err := LoadFloat32Tensors(p)
		if err != nil {
			return
		}
		for name, tensor := range got {
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Fatalf("tensor %q: shape %v holds %d values, data %d", name, tensor.Shape, n, len(tensor.Data))
			}
			for _, v := range tensor.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("tensor %q: non-finite value accepted", name)
				}
			}
		}
	})
}
