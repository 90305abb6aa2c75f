package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// Float64Tensor is a named float64 tensor, row-major.
type Float64Tensor struct {
	Name  string
	Shape []int
	Data  []float64
}

// EncodeFloat64Tensors returns the bytes of a safetensors file holding
// tensors as F64 and the metadata map. The same inputs give the same bytes.
func EncodeFloat64Tensors(tensors []Float64Tensor, metadata map[string]string) ([]byte, error) {
	views := make(map[string]tensorView, len(tensors))
	for _, t := range tensors {
		n := 1
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("tensor %q: negative dimension %d", t.Name, d)
			}
			n *= d
			shape[i] = uint64(d)
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("tensor %q: shape %v holds %d values, got %d", t.Name, t.Shape, n, len(t.Data))
		}
		if _, dup := views[t.Name]; dup {
			return nil, fmt.Errorf("tensor %q given twice", t.Name)
		}
		views[t.Name] = newFloat64View(t.Data, shape...)
	}
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, metadata, &buf); err != nil {
		return nil, fmt.Errorf("encode safetensors: %w", err)
	}
	return buf.Bytes(), nil
}

// SaveFloat64Tensors writes tensors (F64, bit-exact) and the metadata map as
// a safetensors file, atomically.
func SaveFloat64Tensors(path string, tensors []Float64Tensor, metadata map[string]string) error {
	data, err := EncodeFloat64Tensors(tensors, metadata)
	return saveEncoded(path, data, err)
}

// LoadFloat64Tensors reads a safetensors file whose tensors are all F64 and
// finite, returning them by name with the file's metadata.
func LoadFloat64Tensors(path string) (map[string]Float64Tensor, map[string]string, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadFloat64Tensors(f, size, path)
}

// ReadFloat64Tensors reads what SaveFloat64Tensors writes from r (size
// bytes); name is used in errors.
func ReadFloat64Tensors(r io.ReaderAt, size int64, name string) (map[string]Float64Tensor, map[string]string, error) {
	st, err := readSafetensors(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("formats: %s: %w", name, err)
	}
	out := make(map[string]Float64Tensor, len(st.tensors))
	for _, t := range st.tensors {
		if t.dtype != safetensors.F64 {
			return nil, nil, fmt.Errorf("formats: %s: tensor %q is %s, want F64", name, t.name, t.dtype)
		}
		shape := make([]int, len(t.shape))
		n := uint64(1)
		for i, d := range t.shape {
			if d > math.MaxInt32 {
				return nil, nil, fmt.Errorf("formats: %s: tensor %q: dimension %d is %d, larger than supported", name, t.name, i, d)
			}
			shape[i] = int(d)
			n *= d
			if n > uint64(len(t.data)) {
				break
			}
		}
		if n*8 != uint64(len(t.data)) {
			return nil, nil, fmt.Errorf("formats: %s: tensor %q: shape %v needs %d bytes, has %d", name, t.name, t.shape, n*8, len(t.data))
		}
		data := make([]float64, n)
		for k := range data {
			v := math.Float64frombits(binary.LittleEndian.Uint64(t.data[8*k:]))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("formats: %s: tensor %q value %d is %v, want a finite number", name, t.name, k, v)
			}
			data[k] = v
		}
		out[t.name] = Float64Tensor{Name: t.name, Shape: slices.Clone(shape), Data: data}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("formats: %s: %w", name, errors.New("no tensors"))
	}
	return out, st.metadata, nil
}
