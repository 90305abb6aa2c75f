package formats

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/nlpodyssey/safetensors"
)

// SafetensorsFile is any safetensors file read as plain tensors: ours or a
// foreign one (e.g. from Hugging Face), for inspection.
type SafetensorsFile struct {
	// Metadata is the file's __metadata__ map (nil if it has none).
	Metadata map[string]string
	// Tensors are in file (data offset) order.
	Tensors []SafetensorsTensor
}

// SafetensorsTensor is one tensor of a SafetensorsFile. Values holds the
// elements row-major, converted to float64 (exactly for every dtype except
// I64/U64 values beyond 2^53, which round).
type SafetensorsTensor struct {
	Name   string
	DType  string
	Shape  []int
	Values []float64
}

// LoadSafetensors reads any safetensors file.
func LoadSafetensors(path string) (*SafetensorsFile, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadSafetensors(f, size, path)
}

// ReadSafetensors reads a safetensors file of size bytes from r; name is used
// in errors.
func ReadSafetensors(r io.ReaderAt, size int64, name string) (*SafetensorsFile, error) {
	st, err := readSafetensors(r, size)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", name, err)
	}
	out := &SafetensorsFile{Metadata: st.metadata}
	for _, t := range st.tensors {
		shape := make([]int, len(t.shape))
		for i, d := range t.shape {
			if d > math.MaxInt32 {
				return nil, fmt.Errorf("formats: %s: tensor %q: dimension %d is %d, larger than supported", name, t.name, i, d)
			}
			shape[i] = int(d)
		}
		out.Tensors = append(out.Tensors, SafetensorsTensor{
			Name: t.name, DType: t.dtype.String(), Shape: shape, Values: decodeSafetensorsValues(t.dtype, t.data),
		})
	}
	return out, nil
}

// decodeSafetensorsValues converts little-endian tensor bytes to float64.
func decodeSafetensorsValues(dtype safetensors.DType, data []byte) []float64 {
	size := int(dtype.Size())
	if size == 0 {
		return nil
	}
	n := len(data) / size
	values := make([]float64, n)
	le := binary.LittleEndian
	for i := range values {
		b := data[i*size:]
		switch dtype {
		case safetensors.BOOL, safetensors.U8:
			values[i] = float64(b[0])
		case safetensors.I8:
			values[i] = float64(int8(b[0]))
		case safetensors.I16:
			values[i] = float64(int16(le.Uint16(b)))
		case safetensors.U16:
			values[i] = float64(le.Uint16(b))
		case safetensors.F16:
			values[i] = float64(halfToFloat32(le.Uint16(b)))
		case safetensors.BF16:
			values[i] = float64(math.Float32frombits(uint32(le.Uint16(b)) << 16))
		case safetensors.I32:
			values[i] = float64(int32(le.Uint32(b)))
		case safetensors.U32:
			values[i] = float64(le.Uint32(b))
		case safetensors.F32:
			values[i] = float64(math.Float32frombits(le.Uint32(b)))
		case safetensors.I64:
			values[i] = float64(int64(le.Uint64(b)))
		case safetensors.U64:
			values[i] = float64(le.Uint64(b))
		case safetensors.F64:
			values[i] = math.Float64frombits(le.Uint64(b))
		default:
			return nil
		}
	}
	return values
}

// halfToFloat32 converts IEEE 754 binary16 bits exactly (subnormals, signed
// zeros, infinities and NaN included).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	default: // subnormal: frac * 2^-24
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
}
