package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// maxTorchPickleOps caps the opcodes of one pickle, so a crafted pickle
// cannot keep the decoder busy for long (each opcode costs O(1) here).
const maxTorchPickleOps = 1 << 26

// Argument kinds of pickle opcodes, for scanTorchPickle.
const (
	pkUnknown = iota
	pkNone
	pkFixed1
	pkFixed2
	pkFixed4
	pkFixed8
	pkLine
	pkTwoLines
	pkLen1  // 1-byte length, then the data
	pkLen4  // 4-byte little-endian length (signed for T, LONG4), then the data
	pkLen8  // 8-byte little-endian length, then the data
	pkFrame // 8-byte frame length; the frame's opcodes follow inline
	pkStop
)

var torchPickleArgs = func() [256]uint8 {
	var t [256]uint8
	for _, op := range []byte("(012NRabd}elo]st)u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98Q") {
		t[op] = pkNone
	}
	for _, op := range []byte("Khq\x80\x82") {
		t[op] = pkFixed1
	}
	for _, op := range []byte("M\x83") {
		t[op] = pkFixed2
	}
	for _, op := range []byte("Jjr\x84") {
		t[op] = pkFixed4
	}
	t['G'] = pkFixed8
	for _, op := range []byte("FILSVgpP") {
		t[op] = pkLine
	}
	t['c'], t['i'] = pkTwoLines, pkTwoLines
	for _, op := range []byte("UC\x8c\x8a") {
		t[op] = pkLen1
	}
	for _, op := range []byte("TBX\x8b") {
		t[op] = pkLen4
	}
	for _, op := range []byte("\x8d\x8e\x96") {
		t[op] = pkLen8
	}
	t[0x95] = pkFrame
	t['.'] = pkStop
	return t
}()

// scanTorchPickle walks the opcodes of one pickle without building anything
// and returns its length up to and including STOP. It rejects unknown
// opcodes and any length that runs past the data, so the decoder that runs
// next never allocates more than the input holds.
func scanTorchPickle(data []byte) (int, error) {
	pos, ops := 0, 0
	for {
		if pos >= len(data) {
			return 0, fmt.Errorf("truncated pickle: no STOP opcode in %d bytes", len(data))
		}
		if ops++; ops > maxTorchPickleOps {
			return 0, fmt.Errorf("pickle has more than %d opcodes", maxTorchPickleOps)
		}
		op := data[pos]
		at := pos
		pos++
		rest := len(data) - pos
		need := 0
		switch torchPickleArgs[op] {
		case pkUnknown:
			return 0, fmt.Errorf("invalid pickle opcode 0x%02x at byte %d", op, at)
		case pkStop:
			return pos, nil
		case pkNone:
		case pkFixed1:
			need = 1
		case pkFixed2:
			need = 2
		case pkFixed4:
			need = 4
		case pkFixed8:
			need = 8
		case pkLine, pkTwoLines:
			lines := 1
			if torchPickleArgs[op] == pkTwoLines {
				lines = 2
			}
			for range lines {
				nl := bytes.IndexByte(data[pos:], '\n')
				if nl < 0 {
					return 0, fmt.Errorf("truncated pickle: opcode 0x%02x at byte %d has no end of line", op, at)
				}
				pos += nl + 1
			}
			continue
		case pkLen1:
			if rest < 1 {
				need = 1
				break
			}
			need = 1 + int(data[pos])
		case pkLen4:
			if rest < 4 {
				need = 4
				break
			}
			n := binary.LittleEndian.Uint32(data[pos:])
			if (op == 'T' || op == 0x8b) && int32(n) < 0 {
				return 0, fmt.Errorf("pickle opcode 0x%02x at byte %d has a negative length", op, at)
			}
			if uint64(n) > uint64(rest-4) {
				return 0, fmt.Errorf("pickle opcode 0x%02x at byte %d declares %d bytes, only %d left (truncated or corrupt)", op, at, n, rest-4)
			}
			need = 4 + int(n)
		case pkLen8, pkFrame:
			if rest < 8 {
				need = 8
				break
			}
			n := binary.LittleEndian.Uint64(data[pos:])
			if n > uint64(rest-8) {
				return 0, fmt.Errorf("pickle opcode 0x%02x at byte %d declares %d bytes, only %d left (truncated or corrupt)", op, at, n, rest-8)
			}
			need = 8
			if torchPickleArgs[op] == pkLen8 {
				need += int(n)
			}
		}
		if need > rest {
			return 0, fmt.Errorf("truncated pickle: opcode 0x%02x at byte %d needs %d more bytes, %d left", op, at, need, rest)
		}
		pos += need
	}
}

// unpickleTorch decodes the pickle at the start of data and returns the
// object and the pickle's length. load resolves persistent ids (nil: none
// are allowed). Panics inside the decoder become errors.
func unpickleTorch(data []byte, what string, load func(any) (any, error)) (v any, n int, err error) {
	n, err = scanTorchPickle(data)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, fmt.Errorf("%s: malformed pickle (decoder failed: %v)", what, p)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data[:n]))
	u.FindClass = findTorchClass
	u.PersistentLoad = load
	if load == nil {
		u.PersistentLoad = func(any) (any, error) { return nil, errors.New("unexpected persistent id") }
	}
	v, err = u.Load()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: malformed pickle: %w", what, err)
	}
	return v, n, nil
}

// pyClass is a Python class or function we do not know (user modules such
// as __main__.MLP, torch.nn.modules.linear.Linear, builtins.set). Calling
// or instantiating it gives a pyObject that records what the pickle said.
type pyClass struct{ module, name string }

func (c *pyClass) Call(args ...any) (any, error)  { return &pyObject{class: c, args: args}, nil }
func (c *pyClass) PyNew(args ...any) (any, error) { return &pyObject{class: c, args: args}, nil }
func (c *pyClass) String() string                 { return c.module + "." + c.name }

// pyObject is an instance of a pyClass; state is what BUILD gave it (for
// nn.Module objects, their __dict__ with _parameters, _buffers, _modules).
type pyObject struct {
	class *pyClass
	args  []any
	state any
}

func (o *pyObject) PySetState(state any) error { o.state = state; return nil }

// torchRebuild is one of torch._utils' rebuild functions.
type torchRebuild struct{ name string }

// torchStorageType is a storage class such as torch.FloatStorage.
type torchStorageType struct{ dtype torchDType }

// torchDTypeObject is a dtype such as torch.float32.
type torchDTypeObject struct{ dtype torchDType }

func findTorchClass(module, name string) (any, error) {
	switch module {
	case "torch._utils":
		switch name {
		case "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state":
			return &torchRebuild{name: name}, nil
		}
	case "torch", "torch.cuda":
		if dt, ok := torchStorageDTypes[name]; ok {
			return &torchStorageType{dtype: dt}, nil
		}
		if module == "torch" {
			if dt, ok := torchDTypeNames[name]; ok {
				return &torchDTypeObject{dtype: dt}, nil
			}
		}
	}
	return &pyClass{module: module, name: name}, nil
}

// Call records the rebuild's arguments; they are checked when the tensor is
// materialised, where its name is known for the error message.
func (r *torchRebuild) Call(args ...any) (any, error) {
	switch r.name {
	case "_rebuild_parameter", "_rebuild_parameter_with_state":
		if len(args) < 2 {
			return &torchTensor{bad: fmt.Errorf("%s with %d arguments, want at least 2", r.name, len(args))}, nil
		}
		data, ok := args[0].(*torchTensor)
		if !ok {
			return &torchTensor{bad: fmt.Errorf("%s of a %T, want a tensor", r.name, args[0])}, nil
		}
		p := *data
		p.parameter = true
		p.requiresGrad, _ = args[1].(bool)
		return &p, nil
	}
	// _rebuild_tensor(storage, offset, size, stride) and
	// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]).
	if len(args) < 4 {
		return &torchTensor{bad: fmt.Errorf("%s with %d arguments, want at least 4", r.name, len(args))}, nil
	}
	t := &torchTensor{}
	var ok bool
	if t.storage, ok = args[0].(*torchStorage); !ok {
		t.bad = fmt.Errorf("%s: storage is %T, want a storage", r.name, args[0])
		return t, nil
	}
	if t.offset, ok = args[1].(int); !ok {
		t.bad = fmt.Errorf("%s: storage offset is %T, want an int", r.name, args[1])
		return t, nil
	}
	if t.size, t.bad = torchIntTuple(args[2], "size"); t.bad != nil {
		return t, nil
	}
	if t.stride, t.bad = torchIntTuple(args[3], "stride"); t.bad != nil {
		return t, nil
	}
	if len(args) > 4 {
		t.requiresGrad, _ = args[4].(bool)
	}
	return t, nil
}

// PySetState accepts and ignores a BUILD on a tensor (tensor subclasses
// pickle their __dict__ that way).
func (t *torchTensor) PySetState(any) error { return nil }

func torchIntTuple(v any, what string) ([]int, error) {
	var items []any
	switch tv := v.(type) {
	case *types.Tuple:
		items = *tv
	case *types.List:
		items = *tv
	case *pyObject: // torch.Size((...)) in some writers
		if len(tv.args) == 1 {
			return torchIntTuple(tv.args[0], what)
		}
		return nil, fmt.Errorf("%s is a %s object, want a tuple of ints", what, tv.class)
	default:
		return nil, fmt.Errorf("%s is %T, want a tuple of ints", what, v)
	}
	if len(items) > maxTorchDims {
		return nil, fmt.Errorf("%s has %d dimensions, more than the %d supported", what, len(items), maxTorchDims)
	}
	out := make([]int, len(items))
	for i, x := range items {
		n, ok := x.(int)
		if !ok {
			return nil, fmt.Errorf("%s[%d] is %T (%v), want an int", what, i, x, x)
		}
		out[i] = n
	}
	return out, nil
}
