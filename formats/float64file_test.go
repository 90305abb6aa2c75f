package formats

import (
	"bytes"
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFloat64TensorsRoundTrip(t *testing.T) {
	tensors := []Float64Tensor{
		{Name: "w", Shape: []int{2, 3}, Data: []float64{1, -2.5, math.Pi, 1e-300, -0.0, math.Nextafter(1, 2)}},
		{Name: "b", Shape: []int{3}, Data: []float64{0.1, 0.2, 0.3}},
	}
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := SaveFloat64Tensors(path, tensors, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	got, md, err := LoadFloat64Tensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if md["k"] != "v" {
		t.Errorf("metadata %v", md)
	}
	for _, want := range tensors {
		g := got[want.Name]
		if !slices.Equal(g.Shape, want.Shape) || len(g.Data) != len(want.Data) {
			t.Fatalf("%s: shape %v, want %v", want.Name, g.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Float64bits(g.Data[i]) != math.Float64bits(want.Data[i]) {
				t.Errorf("%s[%d] = %v, want %v (bits)", want.Name, i, g.Data[i], want.Data[i])
			}
		}
	}
	if _, err := EncodeFloat64Tensors([]Float64Tensor{{Name: "a", Shape: []int{2}, Data: []float64{1}}}, nil); err == nil {
		t.Error("shape/data mismatch accepted")
	}
}

// A header of 640 bytes begins with 0x80 0x02, as a pickle does: the file
// must still read as safetensors.
func TestFloat64TensorsHeaderThatLooksLikeAPickle(t *testing.T) {
	for pad := 0; pad < 700; pad++ {
		md := map[string]string{"pad": strings.Repeat("x", pad)}
		data, err := EncodeFloat64Tensors([]Float64Tensor{{Name: "a", Shape: []int{1}, Data: []float64{2}}}, md)
		if err != nil {
			t.Fatal(err)
		}
		if binary.LittleEndian.Uint64(data) != 640 {
			continue
		}
		got, _, err := ReadFloat64Tensors(bytes.NewReader(data), int64(len(data)), "pickle-like")
		if err != nil {
			t.Fatal(err)
		}
		if got["a"].Data[0] != 2 {
			t.Fatalf("read %v", got["a"].Data)
		}
		return
	}
	t.Fatal("no padding gave a 640-byte header")
}

func TestFloat64TensorsRefusesOtherDTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f32.safetensors")
	if err := SaveFloat32Tensors(path, []Float32Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFloat64Tensors(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("F32 file: error %v", err)
	}
}

func FuzzReadFloat64Tensors(f *testing.F) {
	good, err := EncodeFloat64Tensors([]Float64Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}},
		{Name: "b", Shape: []int{2}, Data: []float64{-1, 0.5}}}, map[string]string{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{0x80, 0x02, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := ReadFloat64Tensors(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for name, tensor := range got {
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Fatalf("tensor %q: shape %v with %d values", name, tensor.Shape, len(tensor.Data))
			}
		}
	})
}
