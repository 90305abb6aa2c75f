package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// elementType is a decoded datatype message.
type elementType struct {
	kind      Kind
	size      int  // bytes per element in the file
	bigEndian bool // numbers only
	signed    bool // integers only
	vlen      bool // variable-length string (global heap references)
	reason    string
}

// layout is a decoded data layout message (version 3).
type layout struct {
	class   int // 0 compact, 1 contiguous, 2 chunked
	compact []byte
	addr    uint64
	size    uint64
	chunk   []uint64 // chunked: chunk dimensions, then the element size
}

type filter struct {
	id     uint16
	client []uint32
}

// datasetHeader is what a dataset's object header says about its data.
type datasetHeader struct {
	shape   []int
	et      elementType
	lay     layout
	filters []filter
}

func (rd *reader) dataset(path string, msgs []message) (*Dataset, error) {
	h, err := rd.datasetHeader(path, msgs)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Shape: h.shape, Kind: h.et.kind}
	if h.et.reason != "" {
		ds.Kind, ds.Reason = Unsupported, h.et.reason
		return ds, nil
	}
	n := uint64(1)
	for _, s := range h.shape {
		n *= uint64(s)
		if n > uint64(rd.budget) {
			return nil, fmt.Errorf("%s: shape %v exceeds the %d-byte read limit", path, h.shape, rd.budget)
		}
	}
	nbytes := n * uint64(h.et.size)
	if nbytes > uint64(rd.budget) {
		return nil, fmt.Errorf("%s: %d bytes of data exceed the read limit (%d bytes left)", path, nbytes, rd.budget)
	}
	rd.budget -= int64(nbytes)
	raw, err := rd.rawData(path, ds, h, nbytes)
	if err != nil {
		return nil, err
	}
	if err := rd.decode(ds, h.et, raw, int(n)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// datasetHeader decodes the dataspace, datatype, layout and filter
// messages; the first three must be there.
func (rd *reader) datasetHeader(path string, msgs []message) (datasetHeader, error) {
	var (
		h                               datasetHeader
		err                             error
		haveSpace, haveType, haveLayout bool
	)
	for _, m := range msgs {
		switch m.typ {
		case 0x01:
			if h.shape, err = rd.dataspace(m.data); err != nil {
				return h, fmt.Errorf("%s: dataspace: %w", path, err)
			}
			haveSpace = true
		case 0x03:
			if h.et, err = rd.datatype(m.data, 0); err != nil {
				return h, fmt.Errorf("%s: datatype: %w", path, err)
			}
			haveType = true
		case 0x08:
			if h.lay, err = rd.layout(m.data); err != nil {
				return h, fmt.Errorf("%s: data layout: %w", path, err)
			}
			haveLayout = true
		case 0x0b:
			if h.filters, err = parseFilters(m.data); err != nil {
				return h, fmt.Errorf("%s: filter pipeline: %w", path, err)
			}
		}
	}
	if !haveSpace || !haveType || !haveLayout {
		return h, fmt.Errorf("%s: neither a group nor a dataset (dataspace %v, datatype %v, layout %v)", path, haveSpace, haveType, haveLayout)
	}
	return h, nil
}

// rawData reads the nbytes of a dataset's elements as stored, from its
// compact, contiguous or chunked layout, and notes a deflate filter's
// level in ds.
func (rd *reader) rawData(path string, ds *Dataset, h datasetHeader, nbytes uint64) ([]byte, error) {
	lay := h.lay
	switch lay.class {
	case 0:
		if uint64(len(lay.compact)) < nbytes {
			return nil, fmt.Errorf("%s: compact data holds %d bytes, want %d", path, len(lay.compact), nbytes)
		}
		return lay.compact[:nbytes], nil
	case 1:
		if lay.addr == undefined || nbytes == 0 {
			return make([]byte, nbytes), nil // never written: the fill value (zeros)
		}
		if lay.size < nbytes {
			return nil, fmt.Errorf("%s: contiguous storage holds %d bytes, want %d", path, lay.size, nbytes)
		}
		return rd.at(lay.addr, nbytes, path+": data")
	case 2:
		raw, err := rd.chunked(path, h.shape, h.et.size, lay, h.filters, nbytes)
		if err != nil {
			return nil, err
		}
		for _, f := range h.filters {
			if f.id == 1 {
				ds.Deflate = 6
				if len(f.client) > 0 && f.client[0] >= 1 && f.client[0] <= 9 {
					ds.Deflate = int(f.client[0])
				}
			}
		}
		return raw, nil
	}
	return nil, nil
}

func (rd *reader) dataspace(b []byte) ([]int, error) {
	d := &dec{b: b, rd: rd}
	version := d.u8()
	rank := int(d.u8())
	flags := d.u8()
	switch version {
	case 1:
		d.skip(5)
	case 2:
		if typ := d.u8(); typ == 2 {
			return nil, fmt.Errorf("null dataspace (no elements) is not supported")
		}
	default:
		return nil, fmt.Errorf("version %d, want 1 or 2", version)
	}
	if rank > maxRank {
		return nil, fmt.Errorf("rank %d exceeds %d", rank, maxRank)
	}
	var shape []int
	for i := 0; i < rank; i++ {
		s := d.length()
		if s > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d is %d", i, s)
		}
		shape = append(shape, int(s))
	}
	_ = flags // maximum dimensions follow; not needed to read
	return shape, d.err
}

func (rd *reader) datatype(b []byte, depth int) (elementType, error) {
	d := &dec{b: b, rd: rd}
	cv := d.u8()
	bits := d.bytes(3)
	size := int(d.u32())
	if d.err != nil {
		return elementType{}, d.err
	}
	class := cv & 0x0f
	et := elementType{size: size}
	switch class {
	case 0: // fixed-point
		et.kind, et.bigEndian, et.signed = Int64, bits[0]&1 != 0, bits[0]&8 != 0
		offset, precision := d.u16(), d.u16()
		if d.err != nil {
			return et, d.err
		}
		if size != 1 && size != 2 && size != 4 && size != 8 || offset != 0 || int(precision) != 8*size {
			et.reason = fmt.Sprintf("%d-byte integer with bit offset %d, precision %d", size, offset, precision)
		}
	case 1: // floating point
		et.bigEndian = bits[0]&1 != 0
		switch {
		case bits[0]&0x40 != 0:
			et.reason = "VAX-order floating point"
		case size == 4:
			et.kind = Float32
		case size == 8:
			et.kind = Float64
		default:
			et.reason = fmt.Sprintf("%d-byte floating point", size)
		}
	case 3: // fixed-length string
		et.kind = String
		if size == 0 {
			et.reason = "zero-length fixed string"
		}
	case 9: // variable length
		if bits[0]&0x0f != 1 {
			et.reason = "variable-length sequence (not a string)"
			break
		}
		if depth > 0 {
			et.reason = "nested variable-length type"
			break
		}
		et.kind, et.vlen = String, true
		if size != 4+rd.offSize+4 {
			return et, fmt.Errorf("variable-length string element of %d bytes, want %d", size, 4+rd.offSize+4)
		}
	default:
		et.reason = fmt.Sprintf("datatype class %d (compound, enum, reference, array, ... are not in NIR's subset)", class)
	}
	if et.reason == "" && size <= 0 {
		return et, fmt.Errorf("element size %d", size)
	}
	return et, nil
}

func (rd *reader) layout(b []byte) (layout, error) {
	d := &dec{b: b, rd: rd}
	version := d.u8()
	if version != 3 {
		return layout{}, fmt.Errorf("layout message version %d, this reader handles version 3", version)
	}
	var l layout
	l.class = int(d.u8())
	switch l.class {
	case 0:
		n := int(d.u16())
		l.compact = d.bytes(n)
	case 1:
		l.addr = d.addr()
		l.size = d.length()
	case 2:
		rank := int(d.u8())
		if rank < 2 || rank > maxRank+1 {
			return l, fmt.Errorf("chunk dimensionality %d", rank)
		}
		l.addr = d.addr()
		for i := 0; i < rank; i++ {
			c := uint64(d.u32())
			if c == 0 {
				return l, fmt.Errorf("chunk dimension %d is 0", i)
			}
			l.chunk = append(l.chunk, c)
		}
	default:
		return l, fmt.Errorf("layout class %d (virtual datasets are not supported)", l.class)
	}
	return l, d.err
}

func parseFilters(b []byte) ([]filter, error) {
	d := &dec{b: b}
	version := d.u8()
	n := int(d.u8())
	if version == 1 {
		d.skip(6)
	} else if version != 2 {
		return nil, fmt.Errorf("version %d, want 1 or 2", version)
	}
	var out []filter
	for i := 0; i < n && d.err == nil; i++ {
		var f filter
		f.id = d.u16()
		nameLen := 0
		if version == 1 || f.id >= 256 {
			nameLen = int(d.u16())
		}
		d.u16() // flags
		nvalues := int(d.u16())
		if version == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		d.skip(nameLen)
		for j := 0; j < nvalues && d.err == nil; j++ {
			f.client = append(f.client, d.u32())
		}
		if version == 1 && nvalues%2 == 1 {
			d.skip(4)
		}
		out = append(out, f)
	}
	return out, d.err
}

func (rd *reader) decode(ds *Dataset, et elementType, raw []byte, n int) error {
	order := binary.ByteOrder(binary.LittleEndian)
	if et.bigEndian {
		order = binary.BigEndian
	}
	switch et.kind {
	case Float32:
		ds.Float32 = make([]float32, n)
		for i := range ds.Float32 {
			ds.Float32[i] = math.Float32frombits(order.Uint32(raw[4*i:]))
		}
	case Float64:
		ds.Float64 = make([]float64, n)
		for i := range ds.Float64 {
			ds.Float64[i] = math.Float64frombits(order.Uint64(raw[8*i:]))
		}
	case Int64:
		ds.Int64 = make([]int64, n)
		for i := range ds.Int64 {
			e := raw[i*et.size : (i+1)*et.size]
			var u uint64
			switch et.size {
			case 1:
				u = uint64(e[0])
			case 2:
				u = uint64(order.Uint16(e))
			case 4:
				u = uint64(order.Uint32(e))
			case 8:
				u = order.Uint64(e)
			}
			if et.signed && et.size < 8 && u>>(8*et.size-1) != 0 {
				u |= ^uint64(0) << (8 * et.size) // sign-extend
			}
			if !et.signed && et.size == 8 && u > math.MaxInt64 {
				return fmt.Errorf("unsigned value %d at [%d] does not fit int64", u, i)
			}
			ds.Int64[i] = int64(u)
		}
	case String:
		ds.Strings = make([]string, n)
		for i := range ds.Strings {
			e := raw[i*et.size : (i+1)*et.size]
			if !et.vlen {
				if end := bytes.IndexByte(e, 0); end >= 0 {
					e = e[:end]
				}
				ds.Strings[i] = string(bytes.TrimRight(e, " "))
				continue
			}
			s, err := rd.vlenString(e)
			if err != nil {
				return fmt.Errorf("string [%d]: %w", i, err)
			}
			ds.Strings[i] = s
		}
	}
	return nil
}

// vlenString resolves one variable-length string element: length, global
// heap collection address, object index.
func (rd *reader) vlenString(e []byte) (string, error) {
	d := &dec{b: e, rd: rd}
	length := uint64(d.u32())
	coll := d.addr()
	index := d.u32()
	if d.err != nil {
		return "", d.err
	}
	if length == 0 {
		return "", nil
	}
	objs, err := rd.globalHeap(coll)
	if err != nil {
		return "", err
	}
	if index > math.MaxUint16 {
		return "", fmt.Errorf("global heap object index %d", index)
	}
	obj, ok := objs[uint16(index)]
	if !ok {
		return "", fmt.Errorf("global heap collection at %d has no object %d", coll, index)
	}
	if length > uint64(len(obj)) {
		return "", fmt.Errorf("string of %d bytes in a %d-byte heap object", length, len(obj))
	}
	if int64(length) > rd.budget {
		return "", fmt.Errorf("string of %d bytes exceeds the read limit", length)
	}
	rd.budget -= int64(length)
	return string(obj[:length]), nil
}

// globalHeap reads (once) a global heap collection's objects.
func (rd *reader) globalHeap(addr uint64) (map[uint16][]byte, error) {
	if objs, ok := rd.heaps[addr]; ok {
		return objs, nil
	}
	if len(rd.heaps) > 4096 {
		return nil, fmt.Errorf("more than 4096 global heap collections")
	}
	head, err := rd.at(addr, uint64(8+rd.lenSize), "global heap")
	if err != nil {
		return nil, err
	}
	if string(head[:4]) != "GCOL" {
		return nil, fmt.Errorf("global heap collection at %d has no GCOL signature", addr)
	}
	size := (&dec{b: head[8:], rd: rd}).length()
	if size < uint64(len(head)) {
		return nil, fmt.Errorf("global heap collection at %d: size %d", addr, size)
	}
	b, err := rd.at(addr, size, "global heap")
	if err != nil {
		return nil, err
	}
	objs := map[uint16][]byte{}
	d := &dec{b: b, pos: len(head), rd: rd}
	objHeader := 8 + rd.lenSize
	for d.pos+objHeader <= len(b) {
		index := d.u16()
		d.skip(6) // reference count, reserved
		n := d.length()
		if index == 0 {
			break // free space: the rest of the collection
		}
		if n > uint64(len(b)-d.pos) {
			return nil, fmt.Errorf("global heap collection at %d: object %d of %d bytes overruns the collection", addr, index, n)
		}
		objs[index] = d.bytes(int(n))
		d.skip(int((n+7)&^7 - n))
		if d.err != nil {
			// The last object may end without padding at the collection's end.
			break
		}
	}
	rd.heaps[addr] = objs
	return objs, nil
}
