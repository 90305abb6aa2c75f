package formats

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDescribeNPZStatistics: the statistics are those of the finite values
// (closed form: 1, 2, 3 give mean 2 and population std sqrt(2/3)), and the
// non-finite ones are counted.
func TestDescribeNPZStatistics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := WriteNPZ(path, []*Array{NewFloat64Array("x", []int{2, 2}, []float64{1, math.NaN(), 3, 2})}); err != nil {
		t.Fatal(err)
	}
	d, err := Describe(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != "npz" || len(d.Tensors) != 1 || d.Model != nil {
		t.Fatalf("got %+v", d)
	}
	x := d.Tensors[0]
	if x.Name != "x" || x.Numel != 4 || x.NonFinite != 1 || *x.Min != 1 || *x.Max != 3 || *x.Mean != 2 ||
		math.Abs(*x.Std-math.Sqrt(2.0/3)) > 1e-15 {
		t.Fatalf("x: %+v (min %v max %v mean %v std %v)", x, *x.Min, *x.Max, *x.Mean, *x.Std)
	}
	var text bytes.Buffer
	if err := d.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "(1 non-finite)") || !strings.HasPrefix(text.String(), path+": npz\n") {
		t.Fatalf("text:\n%s", text.String())
	}
}

// TestDescribeModelFile: a spikebridge model file is described by its
// network; its MACs per sample are the entries of its weight matrices.
func TestDescribeModelFile(t *testing.T) {
	d, err := Describe(filepath.Join("testdata", "tiny_mlp.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	weights := 0
	for _, x := range d.Tensors {
		if strings.HasSuffix(x.Name, ".weight") {
			weights += x.Shape[0] * x.Shape[1]
		}
	}
	if d.Format != "spikebridge-model" || d.Model == nil || weights == 0 || d.Model.MACs != weights || len(d.Model.Layers) == 0 {
		t.Fatalf("got %+v, want a model of %d MACs", d.Model, weights)
	}
}

// TestDescribeRefusals: files Describe cannot open or does not read give a
// DescribeError naming the file.
func TestDescribeRefusals(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "e.npy")
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(text, []byte("hello, world, this is text"), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.npz"): "no such file",
		empty:                             "not a valid .npy file: it is empty",
		text:                              "not a file spikebridge reads",
	} {
		_, err := Describe(path)
		var de *DescribeError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, want a DescribeError with %q", path, err, want)
		}
	}
}
