package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

func runInspectJSON(t *testing.T, path string) formats.Description {
	t.Helper()
	var out bytes.Buffer
	if err := runInspect(&InspectOptions{IO: &IOStreams{Out: &out, ErrOut: &out}, Path: path, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var report formats.Description
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out.String())
	}
	return report
}

func findTensor(t *testing.T, r formats.Description, name string) formats.DescribedTensor {
	t.Helper()
	for _, tt := range r.Tensors {
		if tt.Name == name {
			return tt
		}
	}
	t.Fatalf("%s: no tensor %q", r.File, name)
	return formats.DescribedTensor{}
}

// TestInspectModel checks the layer table and the statistics of the golden
// model, whose weights are closed forms: fc2.weight[o, i] = 1 - (o+i)/2.
func TestInspectModel(t *testing.T) {
	r := runInspectJSON(t, filepath.Join("..", "..", "formats", "testdata", "tiny_mlp.safetensors"))
	if r.Format != "spikebridge-model" || r.Model == nil || r.Model.Architecture != "3-4-2" || r.Model.MACs != 20 || len(r.Model.Layers) != 4 {
		t.Fatalf("got %+v", r)
	}
	fc2 := findTensor(t, r, "fc2.weight")
	if !slices.Equal(fc2.Shape, []int{2, 4}) || fc2.DType != "F32" || *fc2.Min != -1 || *fc2.Max != 1 || *fc2.Mean != 0 || math.Abs(*fc2.Std-math.Sqrt(3.0/8)) > 1e-15 {
		t.Fatalf("fc2.weight: %+v", fc2)
	}
	var out bytes.Buffer
	if err := runInspect(&InspectOptions{IO: &IOStreams{Out: &out, ErrOut: &out}, Path: r.File}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"model: ann 3-4-2, 20 MACs", "relu1", "fc2.weight  F32", "0.612372"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestInspectBrokenModel lists the tensors of a model whose metadata does
// not match them, and says what is wrong.
func TestInspectBrokenModel(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "formats", "testdata", "tiny_mlp.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	header := strings.Replace(string(data[8:8+n]), `\"kind\":\"relu\"`, `\"kind\":\"conv\"`, 1)
	path := filepath.Join(t.TempDir(), "broken.safetensors")
	if err := os.WriteFile(path, append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...), data[8+n:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runInspectJSON(t, path)
	if r.Model != nil || !strings.Contains(r.ModelError, `layer "relu1": unknown layer kind "conv"`) || len(r.Tensors) != 4 {
		t.Fatalf("got model %v, error %q, %d tensors", r.Model, r.ModelError, len(r.Tensors))
	}
}

// TestInspectNPZ compares with figures numpy printed for the fixture.
func TestInspectNPZ(t *testing.T) {
	r := runInspectJSON(t, filepath.Join(filesFixturesRoot(t), "policies", "torch_dqn_cartpole_seed1_expected.npz"))
	if r.Format != "npz" || len(r.Tensors) != 5 {
		t.Fatalf("got %s with %d arrays", r.Format, len(r.Tensors))
	}
	states := findTensor(t, r, "states")
	if states.DType != "<f4" || !slices.Equal(states.Shape, []int{2500, 4}) || states.Numel != 10000 ||
		math.Abs(*states.Mean-275.02390959139484/10000) > 1e-15 {
		t.Fatalf("states: %+v", states)
	}
	returns := findTensor(t, r, "returns")
	if *returns.Min != 500 || *returns.Max != 500 || *returns.Std != 0 {
		t.Fatalf("returns: %+v", returns)
	}
}

// TestInspectTorch checks every tensor against the fixture's JSON listing
// (path, shape, dtype, stride, storage offset).
func TestInspectTorch(t *testing.T) {
	dir := filepath.Join(filesFixturesRoot(t), "pytorch")
	for _, name := range []string{"cartpole_checkpoint", "strided_views", "cartpole_mlp_float16"} {
		r := runInspectJSON(t, filepath.Join(dir, name+".pt"))
		raw, err := os.ReadFile(filepath.Join(dir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var listing struct {
			Tensors map[string]struct {
				Path          []any  `json:"path"`
				Shape         []int  `json:"shape"`
				DType         string `json:"dtype"`
				Stride        []int  `json:"stride"`
				StorageOffset int    `json:"storage_offset"`
			} `json:"tensors"`
		}
		if err := json.Unmarshal(raw, &listing); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Format, "pytorch-") || len(r.Tensors) != len(listing.Tensors) {
			t.Fatalf("%s: %s with %d tensors, the listing has %d", name, r.Format, len(r.Tensors), len(listing.Tensors))
		}
		for _, tt := range r.Tensors {
			found := false
			for _, w := range listing.Tensors {
				path := make([]string, len(w.Path))
				for i, p := range w.Path {
					path[i] = fmt.Sprint(p) // list indices are numbers in the listing
				}
				if slices.Equal(path, tt.Path) {
					found = true
					if !slices.Equal(w.Shape, tt.Shape) || tt.DType != w.DType ||
						!slices.Equal(w.Stride, tt.Stride) || tt.StorageOffset == nil || *tt.StorageOffset != w.StorageOffset {
						t.Errorf("%s: %v: got %v %s %v +%v, want %v %s %v +%d", name, tt.Path, tt.Shape, tt.DType, tt.Stride, tt.StorageOffset, w.Shape, w.DType, w.Stride, w.StorageOffset)
					}
				}
			}
			if !found {
				t.Errorf("%s: tensor at %v not in the listing", name, tt.Path)
			}
		}
	}
}

func TestInspectRefusals(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("just some notes, not a tensor file"), 0o644)
	for _, tc := range []struct{ path, want string }{
		{text, "notes.txt: not a file spikebridge reads"},
		{filepath.Join(dir, "missing.npz"), "missing.npz"},
		{filepath.Join(filesFixturesRoot(t), "pytorch", "cartpole_mlp_torchscript.pt"), "state_dict"},
	} {
		err := runInspect(&InspectOptions{IO: &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Path: tc.path})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.path, err, tc.want)
		}
	}
}
