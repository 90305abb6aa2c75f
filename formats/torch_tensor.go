package formats

import (
	"encoding/binary"
	"fmt"
	"math"
)

// maxTorchDims bounds a tensor's rank (torch itself allows 64).
const maxTorchDims = 64

// maxTorchNumel bounds the element count computed from a size tuple, so the
// products below cannot overflow.
const maxTorchNumel = 1 << 50

// torchDType is an element type of torch storages.
type torchDType struct {
	name string
	size int // bytes per element
}

var (
	torchFloat32  = torchDType{"float32", 4}
	torchFloat64  = torchDType{"float64", 8}
	torchFloat16  = torchDType{"float16", 2}
	torchBFloat16 = torchDType{"bfloat16", 2}
	torchInt64    = torchDType{"int64", 8}
	torchInt32    = torchDType{"int32", 4}
	torchInt16    = torchDType{"int16", 2}
	torchInt8     = torchDType{"int8", 1}
	torchUint8    = torchDType{"uint8", 1}
	torchBool     = torchDType{"bool", 1}
)

// torchStorageDTypes maps the storage classes torch.save names in its
// persistent ids to their element types.
var torchStorageDTypes = map[string]torchDType{
	"FloatStorage": torchFloat32, "DoubleStorage": torchFloat64, "HalfStorage": torchFloat16,
	"BFloat16Storage": torchBFloat16, "LongStorage": torchInt64, "IntStorage": torchInt32,
	"ShortStorage": torchInt16, "CharStorage": torchInt8, "ByteStorage": torchUint8, "BoolStorage": torchBool,
}

// torchDTypeNames maps torch.<dtype> globals to element types.
var torchDTypeNames = map[string]torchDType{
	"float32": torchFloat32, "float": torchFloat32, "float64": torchFloat64, "double": torchFloat64,
	"float16": torchFloat16, "half": torchFloat16, "bfloat16": torchBFloat16,
	"int64": torchInt64, "long": torchInt64, "int32": torchInt32, "int": torchInt32,
	"int16": torchInt16, "short": torchInt16, "int8": torchInt8, "uint8": torchUint8, "bool": torchBool,
}

// torchStorage is a flat array of elements. Legacy files may declare views
// (base != nil): a window of numel elements starting at offset in base.
type torchStorage struct {
	key          string
	dtype        torchDType
	numel        int
	raw          []byte // numel*dtype.size bytes (roots only)
	littleEndian bool
	base         *torchStorage
	offset       int
}

// torchTensor is what a rebuild call produced: a view of a storage. bad
// holds an argument problem found while unpickling.
type torchTensor struct {
	storage      *torchStorage
	offset       int
	size, stride []int
	requiresGrad bool
	parameter    bool
	bad          error
}

// materialise checks the view against its storage and copies its elements in
// logical row-major order. budget is the number of values the file may
// still materialise; it bounds memory for stride-0 views of small storages.
func (t *torchTensor) materialise(budget *int) (Tensor, error) {
	if t.bad != nil {
		return Tensor{}, t.bad
	}
	s := t.storage
	numel, err := t.checkView()
	if err != nil {
		return Tensor{}, err
	}
	if numel > *budget {
		return Tensor{}, fmt.Errorf("view of %d elements (size %v, stride %v) of a %d-element storage exceeds the file's materialisation limit",
			numel, t.size, t.stride, s.numel)
	}
	*budget -= numel
	root, base := s, 0
	for root.base != nil {
		base += root.offset
		root = root.base
	}
	if (base+s.numel)*root.dtype.size > len(root.raw) {
		return Tensor{}, fmt.Errorf("storage %q holds %d bytes, fewer than its %d %s elements need",
			s.key, len(root.raw), s.numel, s.dtype.name)
	}
	out := Tensor{
		DType:         s.dtype.name,
		Shape:         append([]int{}, t.size...),
		Stride:        append([]int{}, t.stride...),
		StorageOffset: t.offset,
		StorageKey:    s.key,
		StorageNumel:  s.numel,
		RequiresGrad:  t.requiresGrad,
		Parameter:     t.parameter,
		Values:        make([]float64, numel),
	}
	if s.dtype == torchInt64 {
		out.Ints = make([]int64, numel)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if !root.littleEndian {
		order = binary.BigEndian
	}
	t.readElements(&out, root, order, base+t.offset)
	return out, nil
}

// checkView checks the view's size, stride and offset against its storage
// and returns its number of elements.
func (t *torchTensor) checkView() (int, error) {
	if len(t.size) != len(t.stride) {
		return 0, fmt.Errorf("size %v and stride %v differ in rank", t.size, t.stride)
	}
	numel, maxIndex := 1, t.offset
	if t.offset < 0 {
		return 0, fmt.Errorf("negative storage offset %d", t.offset)
	}
	for d, n := range t.size {
		if n < 0 {
			return 0, fmt.Errorf("size %v has a negative dimension", t.size)
		}
		if t.stride[d] < 0 {
			return 0, fmt.Errorf("stride %v has a negative entry", t.stride)
		}
		if n > 0 && numel > maxTorchNumel/n {
			return 0, fmt.Errorf("size %v holds too many elements", t.size)
		}
		numel *= n
	}
	if numel > 0 {
		for d, n := range t.size {
			if t.stride[d] > 0 && n-1 > (math.MaxInt64-maxIndex)/t.stride[d] {
				return 0, fmt.Errorf("size %v with stride %v overflows the storage index", t.size, t.stride)
			}
			maxIndex += (n - 1) * t.stride[d]
		}
		if maxIndex >= t.storage.numel {
			return 0, fmt.Errorf("view (offset %d, size %v, stride %v) reaches element %d of storage %q, which holds %d",
				t.offset, t.size, t.stride, maxIndex, t.storage.key, t.storage.numel)
		}
	} else if t.offset > t.storage.numel {
		return 0, fmt.Errorf("storage offset %d is past the %d elements of storage %q", t.offset, t.storage.numel, t.storage.key)
	}
	return numel, nil
}

// readElements decodes the view's elements into out.Values (and out.Ints)
// in row-major order, starting at element at of root's bytes.
func (t *torchTensor) readElements(out *Tensor, root *torchStorage, order binary.ByteOrder, at int) {
	s := t.storage
	// Walk the multi-index in row-major order, keeping the storage index.
	index := make([]int, len(t.size))
	for i := range len(out.Values) {
		b := root.raw[at*s.dtype.size:]
		switch s.dtype {
		case torchFloat32:
			out.Values[i] = float64(math.Float32frombits(order.Uint32(b)))
		case torchFloat64:
			out.Values[i] = math.Float64frombits(order.Uint64(b))
		case torchFloat16:
			out.Values[i] = torchHalfToFloat64(order.Uint16(b))
		case torchBFloat16:
			out.Values[i] = float64(math.Float32frombits(uint32(order.Uint16(b)) << 16))
		case torchInt64:
			v := int64(order.Uint64(b))
			out.Ints[i], out.Values[i] = v, float64(v)
		case torchInt32:
			out.Values[i] = float64(int32(order.Uint32(b)))
		case torchInt16:
			out.Values[i] = float64(int16(order.Uint16(b)))
		case torchInt8:
			out.Values[i] = float64(int8(b[0]))
		case torchUint8:
			out.Values[i] = float64(b[0])
		case torchBool:
			if b[0] != 0 {
				out.Values[i] = 1
			}
		}
		for d := len(index) - 1; d >= 0; d-- {
			index[d]++
			at += t.stride[d]
			if index[d] < t.size[d] {
				break
			}
			at -= index[d] * t.stride[d]
			index[d] = 0
		}
	}
}

// torchHalfToFloat64 converts IEEE 754 binary16 exactly, including
// subnormals, signed zeros, infinities and NaN.
func torchHalfToFloat64(h uint16) float64 {
	sign := h >> 15
	exp := int(h>>10) & 0x1f
	frac := uint64(h & 0x3ff)
	var v float64
	switch exp {
	case 0: // zero or subnormal: frac * 2^-24
		v = math.Ldexp(float64(frac), -24)
	case 0x1f:
		if frac != 0 {
			// Keep the payload: float32 has room for it.
			return float64(math.Float32frombits(uint32(sign)<<31 | 0x7f800000 | uint32(frac)<<13))
		}
		v = math.Inf(1)
	default:
		v = math.Ldexp(float64(frac|0x400), exp-25)
	}
	if sign != 0 {
		v = -v
	}
	return v
}
