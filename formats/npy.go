package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/sbinet/npyio/npy"
)

// The .npy header and data are parsed here rather than by npyio's reader:
// npyio v0.6.0 panics on a header without a newline, allocates whatever the
// header declares, and returns a truncated array's missing values as copies
// of the last one without an error. We keep its Header type and magic.

// maxNPYHeaderBytes bounds an .npy header (numpy's own reader refuses more
// than 10000 bytes by default; version-2 headers may be longer).
const maxNPYHeaderBytes = 1 << 20

// ReadNPY reads a single .npy file.
func ReadNPY(path string) (*Array, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := readNPY(f, size, newBudget())
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", path, err)
	}
	return a, nil
}

// DecodeNPY reads one .npy stream of at most size bytes; name is used in
// errors.
func DecodeNPY(r io.Reader, size int64, name string) (*Array, error) {
	a, err := readNPY(r, size, newBudget())
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", name, err)
	}
	return a, nil
}

// npyDType is a parsed numpy dtype: kind 'f', 'i', 'u' or 'b', item size in
// bytes, byte order.
type npyDType struct {
	kind  byte
	size  int
	order npyByteOrder
}

type npyByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func parseNPYDType(descr string) (npyDType, error) {
	s := descr
	var order npyByteOrder = binary.LittleEndian
	if s != "" {
		switch s[0] {
		case '<', '|', '=': // '=' is native: little-endian on every platform we build for
			s = s[1:]
		case '>':
			order = binary.BigEndian
			s = s[1:]
		}
	}
	if len(s) < 2 {
		return npyDType{}, fmt.Errorf("dtype %q not supported", descr)
	}
	size, err := strconv.Atoi(s[1:])
	if err != nil {
		return npyDType{}, fmt.Errorf("dtype %q not supported", descr)
	}
	dt := npyDType{kind: s[0], size: size, order: order}
	ok := false
	switch dt.kind {
	case 'f':
		ok = size == 2 || size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return npyDType{}, fmt.Errorf("dtype %q not supported (want float16/32/64, (u)int8-64 or bool)", descr)
	}
	return dt, nil
}

// readNPY parses an .npy stream. size is how many bytes the stream can hold
// at most; the declared shape is checked against it, and the memory it
// decodes into against b, before any allocation.
func readNPY(r io.Reader, size int64, b *budget) (*Array, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, fmt.Errorf("not an .npy array: %s", shortReadText(err))
	}
	if !bytes.Equal(pre[:6], npy.Magic[:]) {
		return nil, fmt.Errorf("not an .npy array: magic %q, want %q", pre[:6], npy.Magic[:])
	}
	var headerLen, preamble int64
	switch major := pre[6]; major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %s", shortReadText(err))
		}
		headerLen, preamble = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %s", shortReadText(err))
		}
		headerLen, preamble = int64(binary.LittleEndian.Uint32(l[:])), 12
	default:
		return nil, fmt.Errorf(".npy format version %d.%d not supported", major, pre[7])
	}
	if headerLen > maxNPYHeaderBytes || preamble+headerLen > size {
		return nil, fmt.Errorf(".npy header length %d is longer than the %d bytes available", headerLen, max(size-preamble, 0))
	}
	header := make([]byte, headerLen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %s", shortReadText(err))
	}
	hdr, err := parseNPYHeader(string(header))
	if err != nil {
		return nil, fmt.Errorf(".npy header %q: %w", strings.TrimSpace(string(header)), err)
	}
	dt, err := parseNPYDType(hdr.Descr.Type)
	if err != nil {
		return nil, err
	}
	count := int64(1)
	for _, d := range hdr.Descr.Shape {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", hdr.Descr.Shape)
		}
		if d > 0 && count > math.MaxInt64/int64(dt.size)/int64(d) {
			return nil, fmt.Errorf("shape %v is too large", hdr.Descr.Shape)
		}
		count *= int64(d)
	}
	dataBytes := count * int64(dt.size)
	if available := size - preamble - headerLen; dataBytes > available {
		return nil, fmt.Errorf("shape %v of %s needs %d data bytes, but only %d are there", hdr.Descr.Shape, hdr.Descr.Type, dataBytes, available)
	}
	// The raw bytes (a growing buffer: up to twice their size) and the
	// float64 values they become.
	if count > math.MaxInt64/16 {
		return nil, fmt.Errorf("shape %v is too large", hdr.Descr.Shape)
	}
	if err := b.reserve(2*dataBytes+8*count, fmt.Sprintf("shape %v of %s", hdr.Descr.Shape, hdr.Descr.Type)); err != nil {
		return nil, err
	}
	// Read through a growing buffer: memory follows the bytes that really
	// arrive, even where the size bound above was only a claim.
	var buf bytes.Buffer
	if n, err := io.CopyN(&buf, r, dataBytes); err != nil {
		return nil, fmt.Errorf("shape %v of %s needs %d data bytes, read %d: %s", hdr.Descr.Shape, hdr.Descr.Type, dataBytes, n, shortReadText(err))
	}
	data := decodeNPYValues(buf.Bytes(), dt, int(count))
	if hdr.Descr.Fortran && len(hdr.Descr.Shape) > 1 {
		data = fortranToC(data, hdr.Descr.Shape)
	}
	shape := hdr.Descr.Shape
	if shape == nil {
		shape = []int{}
	}
	return &Array{Shape: shape, DType: hdr.Descr.Type, Data: data}, nil
}

func shortReadText(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "file ends early (truncated?)"
	}
	return err.Error()
}

func decodeNPYValues(raw []byte, dt npyDType, count int) []float64 {
	out := make([]float64, count)
	for i := range out {
		b := raw[i*dt.size:]
		switch {
		case dt.kind == 'b' || (dt.kind == 'u' && dt.size == 1):
			out[i] = float64(b[0])
		case dt.kind == 'i' && dt.size == 1:
			out[i] = float64(int8(b[0]))
		case dt.kind == 'i' && dt.size == 2:
			out[i] = float64(int16(dt.order.Uint16(b)))
		case dt.kind == 'u' && dt.size == 2:
			out[i] = float64(dt.order.Uint16(b))
		case dt.kind == 'f' && dt.size == 2:
			out[i] = float64(halfToFloat32(dt.order.Uint16(b)))
		case dt.kind == 'i' && dt.size == 4:
			out[i] = float64(int32(dt.order.Uint32(b)))
		case dt.kind == 'u' && dt.size == 4:
			out[i] = float64(dt.order.Uint32(b))
		case dt.kind == 'f' && dt.size == 4:
			out[i] = float64(math.Float32frombits(dt.order.Uint32(b)))
		case dt.kind == 'i' && dt.size == 8:
			out[i] = float64(int64(dt.order.Uint64(b)))
		case dt.kind == 'u' && dt.size == 8:
			out[i] = float64(dt.order.Uint64(b))
		case dt.kind == 'f' && dt.size == 8:
			out[i] = math.Float64frombits(dt.order.Uint64(b))
		}
	}
	return out
}

// fortranToC reorders column-major data to row-major.
func fortranToC(data []float64, shape []int) []float64 {
	out := make([]float64, len(data))
	idx := make([]int, len(shape))
	for f := range data {
		// f enumerates elements with the first index fastest.
		c := 0
		for d := range shape {
			c = c*shape[d] + idx[d]
		}
		out[c] = data[f]
		for d := range idx {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

// parseNPYHeader parses the Python dict literal of an .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2500, 4), }.
func parseNPYHeader(s string) (npy.Header, error) {
	var hdr npy.Header
	p := &dictParser{s: s}
	p.skipSpace()
	if !p.eat('{') {
		return hdr, errors.New("want a dictionary")
	}
	have := map[string]bool{}
	for {
		p.skipSpace()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return hdr, err
		}
		p.skipSpace()
		if !p.eat(':') {
			return hdr, fmt.Errorf("want ':' after key %q", key)
		}
		p.skipSpace()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return hdr, errors.New("structured dtypes not supported")
			}
			hdr.Descr.Type, err = p.str()
		case "fortran_order":
			hdr.Descr.Fortran, err = p.boolean()
		case "shape":
			hdr.Descr.Shape, err = p.tuple()
		default:
			return hdr, fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return hdr, fmt.Errorf("key %q: %w", key, err)
		}
		if have[key] {
			return hdr, fmt.Errorf("key %q appears twice", key)
		}
		have[key] = true
		p.skipSpace()
		if !p.eat(',') {
			p.skipSpace()
			if !p.eat('}') {
				return hdr, fmt.Errorf("want ',' or '}' after key %q", key)
			}
			break
		}
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return hdr, errors.New("text after the dictionary")
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if !have[key] {
			return hdr, fmt.Errorf("key %q missing", key)
		}
	}
	return hdr, nil
}

type dictParser struct {
	s string
	i int
}

func (p *dictParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *dictParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *dictParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", errors.New("want a quoted string")
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *dictParser) boolean() (bool, error) {
	for _, w := range []struct {
		text  string
		value bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.i:], w.text) {
			p.i += len(w.text)
			return w.value, nil
		}
	}
	return false, errors.New("want True or False")
}

// tuple parses a Python tuple of non-negative integers: (), (3,), (2, 4).
func (p *dictParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("want a tuple")
	}
	var dims []int
	for {
		p.skipSpace()
		if p.eat(')') {
			return dims, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i || p.i-start > 18 {
			return nil, errors.New("want dimensions as non-negative integers below 10^18")
		}
		d, _ := strconv.Atoi(p.s[start:p.i])
		dims = append(dims, d)
		if len(dims) > 32 {
			return nil, errors.New("more than 32 dimensions")
		}
		p.skipSpace()
		if !p.eat(',') {
			p.skipSpace()
			if !p.eat(')') {
				return nil, errors.New("want ',' or ')' in the shape")
			}
			return dims, nil
		}
	}
}

// WriteNPY writes one array to an .npy file, atomically.
func WriteNPY(path string, a *Array) error {
	if err := checkWritable(a); err != nil {
		return fmt.Errorf("formats: %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return encodeNPY(w, a) })
}

func checkWritable(a *Array) error {
	if _, err := parseNPYDType(a.DType); err != nil {
		return err
	}
	for _, d := range a.Shape {
		if d < 0 {
			return fmt.Errorf("shape %v has a negative dimension", a.Shape)
		}
	}
	if a.Len() != len(a.Data) {
		return fmt.Errorf("shape %v holds %d values, but the data has %d", a.Shape, a.Len(), len(a.Data))
	}
	return nil
}

// encodeNPY writes a version 1.0 .npy stream, header padded so the data
// starts at a multiple of 64 bytes, as numpy does.
func encodeNPY(w io.Writer, a *Array) error {
	dt, _ := parseNPYDType(a.DType)
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := "(" + strings.Join(dims, ", ") + ")"
	if len(a.Shape) == 1 {
		shape = "(" + dims[0] + ",)"
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", a.DType, shape)
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(header) > math.MaxUint16 {
		return fmt.Errorf("header of %d bytes too long for .npy version 1.0", len(header))
	}
	out := make([]byte, 0, 10+len(header)+len(a.Data)*dt.size)
	out = append(out, npy.Magic[:]...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	out = append(out, header...)
	for _, v := range a.Data {
		switch {
		case dt.kind == 'f' && dt.size == 4:
			out = dt.order.AppendUint32(out, math.Float32bits(float32(v)))
		case dt.kind == 'f' && dt.size == 8:
			out = dt.order.AppendUint64(out, math.Float64bits(v))
		case dt.kind == 'f' && dt.size == 2:
			return errors.New("writing float16 is not supported")
		case dt.size == 1:
			out = append(out, byte(int64(v)))
		case dt.size == 2:
			out = dt.order.AppendUint16(out, uint16(int64(v)))
		case dt.size == 4:
			out = dt.order.AppendUint32(out, uint32(int64(v)))
		case dt.kind == 'u':
			out = dt.order.AppendUint64(out, uint64(v))
		default:
			out = dt.order.AppendUint64(out, uint64(int64(v)))
		}
	}
	_, err := w.Write(out)
	return err
}
