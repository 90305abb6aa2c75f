package formats

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// torchFixtures returns $SPIKEBRIDGE_FIXTURES/sub, or ../shared/fixtures/sub
// next to the module root (the directory holding go.mod).
func torchFixtures(t testing.TB, sub string) string {
	return testfixtures.Dir(t, sub)
}

// torchFixtureFiles lists the .pt files of a fixture directory.
func torchFixtureFiles(t testing.TB, sub string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(torchFixtures(t, sub), "*.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no .pt fixtures in %s", torchFixtures(t, sub))
	}
	return files
}

// torchFixtureJSON is the schema of fixtures/pytorch/*.json.
type torchFixtureJSON struct {
	File    string                        `json:"file"`
	Format  string                        `json:"format"`
	Tensors map[string]torchFixtureTensor `json:"tensors"`
	// DSQN files list bare weights and biases instead of named tensors.
	Sizes   []int                 `json:"sizes"`
	Weights []torchFixtureTensor  `json:"weights"`
	Biases  []*torchFixtureTensor `json:"biases"`
}

type torchFixtureTensor struct {
	Path          []any     `json:"path"`
	Shape         []int     `json:"shape"`
	DType         string    `json:"dtype"`
	Stride        []int     `json:"stride"`
	StorageOffset int       `json:"storage_offset"`
	StorageNumel  int       `json:"storage_numel"`
	RequiresGrad  bool      `json:"requires_grad"`
	Numel         int       `json:"numel"`
	First5        []float64 `json:"first5"`
	Sum           float64   `json:"sum"`
}

func TestTorchFixtures(t *testing.T) {
	files, tensors := 0, 0
	for _, path := range torchFixtureFiles(t, "pytorch") {
		base := strings.TrimSuffix(filepath.Base(path), ".pt")
		t.Run(base, func(t *testing.T) {
			raw, err := os.ReadFile(strings.TrimSuffix(path, ".pt") + ".json")
			if err != nil {
				t.Fatalf("fixture without its .json: %v", err)
			}
			var want torchFixtureJSON
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			tf, err := LoadTorch(path)
			if want.Format == "torchscript" {
				if !errors.Is(err, ErrTorchScript) || !strings.Contains(err.Error(), "torch.save(model.state_dict()") ||
					!strings.Contains(err.Error(), base) {
					t.Fatalf("TorchScript archive: got error %v, want ErrTorchScript naming the file", err)
				}
				files++
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tf.Format != want.Format {
				t.Errorf("format %q, want %q", tf.Format, want.Format)
			}
			checked := 0
			for name, w := range want.Tensors {
				path := make([]string, len(w.Path))
				for i, p := range w.Path {
					path[i] = fmt.Sprint(p)
				}
				got := torchFindPath(tf, path)
				if got == nil {
					t.Errorf("%s: no tensor at path %q", name, path)
					continue
				}
				if got.Name != name {
					t.Errorf("%s: Name %q", name, got.Name)
				}
				checkTorchTensor(t, name, got, w)
				if !slices.Equal(got.Stride, w.Stride) {
					t.Errorf("%s: stride %v, want %v", name, got.Stride, w.Stride)
				}
				if got.StorageOffset != w.StorageOffset || got.StorageNumel != w.StorageNumel {
					t.Errorf("%s: storage offset/numel %d/%d, want %d/%d", name,
						got.StorageOffset, got.StorageNumel, w.StorageOffset, w.StorageNumel)
				}
				if got.RequiresGrad != w.RequiresGrad {
					t.Errorf("%s: requires_grad %v, want %v", name, got.RequiresGrad, w.RequiresGrad)
				}
				checked++
			}
			// DSQN layouts: a list of W, or a tuple (list of W, list of b or None).
			if want.Weights != nil {
				prefix := []string{}
				if want.Biases != nil {
					prefix = []string{"0"}
				}
				for i, w := range want.Weights {
					p := append(slices.Clone(prefix), fmt.Sprint(i))
					if got := torchFindPath(tf, p); got == nil {
						t.Errorf("weight %d: no tensor at path %q", i, p)
					} else {
						checkTorchTensor(t, fmt.Sprintf("weight %d", i), got, w)
						checked++
					}
				}
				for i, b := range want.Biases {
					p := []string{"1", fmt.Sprint(i)}
					got := torchFindPath(tf, p)
					switch {
					case b == nil && got != nil:
						t.Errorf("bias %d: want None, got a tensor", i)
					case b != nil && got == nil:
						t.Errorf("bias %d: no tensor at path %q", i, p)
					case b != nil:
						checkTorchTensor(t, fmt.Sprintf("bias %d", i), got, *b)
						checked++
					}
				}
			}
			if n := len(want.Tensors) + len(want.Weights); checked == 0 || len(tf.Tensors) < checked || n == 0 {
				t.Errorf("checked %d tensors of %d listed; file holds %d", checked, n, len(tf.Tensors))
			}
			files++
			tensors += checked
		})
	}
	t.Logf("checked %d .pt fixture files, %d tensors", files, tensors)
}

func torchFindPath(tf *TorchFile, path []string) *Tensor {
	for i := range tf.Tensors {
		if slices.Equal(tf.Tensors[i].Path, path) {
			return &tf.Tensors[i]
		}
	}
	return nil
}

// checkTorchTensor compares shape, dtype, numel, the first five values
// exactly (NaN equals NaN, -0 differs from +0) and the sum to 1e-6 relative.
func checkTorchTensor(t *testing.T, name string, got *Tensor, want torchFixtureTensor) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) || got.Shape == nil {
		t.Errorf("%s: shape %v, want %v", name, got.Shape, want.Shape)
	}
	if got.DType != want.DType {
		t.Errorf("%s: dtype %s, want %s", name, got.DType, want.DType)
	}
	numel := 1
	for _, n := range want.Shape {
		numel *= n
	}
	if got.Numel() != numel || want.Numel != 0 && want.Numel != numel {
		t.Errorf("%s: numel %d, want %d", name, got.Numel(), numel)
	}
	for i, w := range want.First5 {
		if i >= len(got.Values) {
			break
		}
		g := got.Values[i]
		same := math.Float64bits(g) == math.Float64bits(w) || math.IsNaN(g) && math.IsNaN(w)
		if !same {
			t.Errorf("%s: value %d is %v (bits %x), want %v (bits %x)", name, i, g, math.Float64bits(g), w, math.Float64bits(w))
		}
	}
	sum := 0.0
	for _, v := range got.Values {
		sum += v
	}
	if tol := 1e-6 * max(1, math.Abs(want.Sum)); math.Abs(sum-want.Sum) > tol && !(math.IsNaN(sum) && math.IsNaN(want.Sum)) {
		t.Errorf("%s: sum %v, want %v", name, sum, want.Sum)
	}
	if got.DType == "float32" || got.DType == "float16" || got.DType == "bfloat16" {
		for i, v := range got.Float32() {
			if float64(v) != got.Values[i] && !math.IsNaN(got.Values[i]) {
				t.Fatalf("%s: Float32()[%d] = %v differs from %v", name, i, v, got.Values[i])
			}
		}
	}
}

// TestTorchHalf checks float16 decoding against closed-form values,
// including the cases gopickle's own decoder gets wrong.
func TestTorchHalf(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float64
	}{
		{0x0000, 0}, {0x8000, math.Copysign(0, -1)}, {0x3c00, 1}, {0xc000, -2},
		{0x0001, math.Ldexp(1, -24)},    // smallest subnormal
		{0x03ff, math.Ldexp(1023, -24)}, // largest subnormal
		{0x8001, -math.Ldexp(1, -24)},   // negative subnormal
		{0x0400, math.Ldexp(1, -14)},    // smallest normal
		{0x7bff, 65504},                 // largest normal
		{0x3555, (1 + 341.0/1024) / 4},  // 1/3 rounded to half
		{0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	} {
		want := c.want
		got := torchHalfToFloat64(c.bits)
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("half %#04x = %v, want %v", c.bits, got, want)
		}
	}
	for _, bits := range []uint16{0x7e00, 0x7c01, 0xfe00} {
		if got := torchHalfToFloat64(bits); !math.IsNaN(got) {
			t.Errorf("half %#04x = %v, want NaN", bits, got)
		}
	}
}

// TestTorchDTypes reads testdata/torch_dtypes_*.pt (written by
// make_torch_dtypes.py with torch 1.13, in the zip, legacy and protocol-4
// forms) and compares every element bit for bit: half/bfloat16 subnormals,
// -0, Inf, NaN, int64 beyond 2^53, a transposed float16 view, bool, empty.
func TestTorchDTypes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "torch_dtypes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape         []int  `json:"shape"`
		DType         string `json:"dtype"`
		Stride        []int  `json:"stride"`
		StorageOffset int    `json:"storage_offset"`
		Values        []any  `json:"values"`
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{"zip", "legacy", "proto4"} {
		t.Run(form, func(t *testing.T) {
			tf, err := LoadTorch(filepath.Join("testdata", "torch_dtypes_"+form+".pt"))
			if err != nil {
				t.Fatal(err)
			}
			if len(tf.Tensors) != len(want) {
				t.Errorf("%d tensors, want %d", len(tf.Tensors), len(want))
			}
			for name, w := range want {
				got := tf.Tensor(name)
				if got == nil {
					t.Errorf("%s: missing", name)
					continue
				}
				if got.DType != w.DType || !slices.Equal(got.Shape, w.Shape) || !slices.Equal(got.Stride, w.Stride) ||
					got.StorageOffset != w.StorageOffset || len(got.Values) != len(w.Values) {
					t.Errorf("%s: %s %v stride %v offset %d, %d values; want %s %v stride %v offset %d, %d values", name,
						got.DType, got.Shape, got.Stride, got.StorageOffset, len(got.Values),
						w.DType, w.Shape, w.Stride, w.StorageOffset, len(w.Values))
					continue
				}
				for i, v := range w.Values {
					switch x := v.(type) {
					case float64: // bool as 0/1
						if got.Values[i] != x {
							t.Errorf("%s[%d] = %v, want %v", name, i, got.Values[i], x)
						}
					case string:
						if got.DType == "int64" {
							n, err := strconv.ParseInt(x, 10, 64)
							if err != nil || got.Ints[i] != n || got.Values[i] != float64(n) {
								t.Errorf("%s[%d] = %d (%v), want %s", name, i, got.Ints[i], got.Values[i], x)
							}
							continue
						}
						f, err := strconv.ParseFloat(x, 64)
						if err != nil {
							t.Fatal(err)
						}
						g := got.Values[i]
						if math.Float64bits(g) != math.Float64bits(f) && !(math.IsNaN(g) && math.IsNaN(f)) {
							t.Errorf("%s[%d] = %v (%x), want %v (%s)", name, i, g, math.Float64bits(g), f, x)
						}
					}
				}
			}
		})
	}
}
