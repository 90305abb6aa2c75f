package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/nlpodyssey/safetensors"
)

// EmulatorMetadataKey is the __metadata__ key of a spiking emulator file:
// a JSON document (the emulator's sizes, neuron settings and task) that the
// caller defines; this package stores it verbatim.
const EmulatorMetadataKey = "spikebridge_emulator"

// Float32Tensor is a named float32 tensor, row-major.
type Float32Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// SaveFloat32Tensors writes tensors and the metadata map as a safetensors
// file, atomically. The same inputs always give the same bytes.
func SaveFloat32Tensors(path string, tensors []Float32Tensor, metadata map[string]string) error {
	views := make(map[string]tensorView, len(tensors))
	for _, t := range tensors {
		n := 1
		shape := make([]uint64, len(t.Shape))
		for i, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("formats: %s: tensor %q: negative dimension %d", path, t.Name, d)
			}
			n *= d
			shape[i] = uint64(d)
		}
		if n != len(t.Data) {
			return fmt.Errorf("formats: %s: tensor %q: shape %v holds %d values, got %d", path, t.Name, t.Shape, n, len(t.Data))
		}
		if _, dup := views[t.Name]; dup {
			return fmt.Errorf("formats: %s: tensor %q given twice", path, t.Name)
		}
		views[t.Name] = newFloat32View(t.Data, shape...)
	}
	var buf bytes.Buffer
	if err := safetensors.SerializeToWriter(views, metadata, &buf); err != nil {
		return fmt.Errorf("formats: %s: encode safetensors: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// LoadFloat32Tensors reads a safetensors file whose tensors are all F32 and
// finite, returning them by name with the file's metadata.
func LoadFloat32Tensors(path string) (map[string]Float32Tensor, map[string]string, error) {
	f, err := LoadSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]Float32Tensor, len(f.Tensors))
	for _, t := range f.Tensors {
		if t.DType != "F32" {
			return nil, nil, fmt.Errorf("formats: %s: tensor %q is %s, want F32", path, t.Name, t.DType)
		}
		data := make([]float32, len(t.Values))
		for i, v := range t.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("formats: %s: tensor %q value %d is %v, want a finite number", path, t.Name, i, v)
			}
			data[i] = float32(v)
		}
		out[t.Name] = Float32Tensor{Name: t.Name, Shape: slices.Clone(t.Shape), Data: data}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("formats: %s: %w", path, errors.New("no tensors"))
	}
	return out, f.Metadata, nil
}
