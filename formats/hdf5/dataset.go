package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
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

func (rd *reader) dataset(path string, msgs []message) (*Dataset, error) {
	var (
		shape           []int
		haveSpace       bool
		et              elementType
		haveType        bool
		lay             layout
		haveLayout      bool
		filters         []filter
		err             error
		unsupportedType string
	)
	for _, m := range msgs {
		switch m.typ {
		case 0x01:
			if shape, err = rd.dataspace(m.data); err != nil {
				return nil, fmt.Errorf("%s: dataspace: %w", path, err)
			}
			haveSpace = true
		case 0x03:
			if et, err = rd.datatype(m.data, 0); err != nil {
				return nil, fmt.Errorf("%s: datatype: %w", path, err)
			}
			haveType = true
			unsupportedType = et.reason
		case 0x08:
			if lay, err = rd.layout(m.data); err != nil {
				return nil, fmt.Errorf("%s: data layout: %w", path, err)
			}
			haveLayout = true
		case 0x0b:
			if filters, err = parseFilters(m.data); err != nil {
				return nil, fmt.Errorf("%s: filter pipeline: %w", path, err)
			}
		}
	}
	if !haveSpace || !haveType || !haveLayout {
		return nil, fmt.Errorf("%s: neither a group nor a dataset (dataspace %v, datatype %v, layout %v)", path, haveSpace, haveType, haveLayout)
	}
	ds := &Dataset{Shape: shape, Kind: et.kind}
	if unsupportedType != "" {
		ds.Kind, ds.Reason = Unsupported, unsupportedType
		return ds, nil
	}
	n := uint64(1)
	for _, s := range shape {
		n *= uint64(s)
		if n > uint64(rd.budget) {
			return nil, fmt.Errorf("%s: shape %v exceeds the %d-byte read limit", path, shape, rd.budget)
		}
	}
	nbytes := n * uint64(et.size)
	if nbytes > uint64(rd.budget) {
		return nil, fmt.Errorf("%s: %d bytes of data exceed the read limit (%d bytes left)", path, nbytes, rd.budget)
	}
	rd.budget -= int64(nbytes)
	var raw []byte
	switch lay.class {
	case 0:
		if uint64(len(lay.compact)) < nbytes {
			return nil, fmt.Errorf("%s: compact data holds %d bytes, want %d", path, len(lay.compact), nbytes)
		}
		raw = lay.compact[:nbytes]
	case 1:
		if lay.addr == undefined || nbytes == 0 {
			raw = make([]byte, nbytes) // never written: the fill value (zeros)
			break
		}
		if lay.size < nbytes {
			return nil, fmt.Errorf("%s: contiguous storage holds %d bytes, want %d", path, lay.size, nbytes)
		}
		if raw, err = rd.at(lay.addr, nbytes, path+": data"); err != nil {
			return nil, err
		}
	case 2:
		if raw, err = rd.chunked(path, shape, et.size, lay, filters, nbytes); err != nil {
			return nil, err
		}
		for _, f := range filters {
			if f.id == 1 {
				ds.Deflate = 6
				if len(f.client) > 0 && f.client[0] >= 1 && f.client[0] <= 9 {
					ds.Deflate = int(f.client[0])
				}
			}
		}
	}
	if err := rd.decode(ds, et, raw, int(n)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
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

// chunked assembles a chunked dataset's bytes from its B-tree of chunks.
func (rd *reader) chunked(path string, shape []int, elemSize int, lay layout, filters []filter, nbytes uint64) ([]byte, error) {
	rank := len(lay.chunk) - 1
	if rank != len(shape) {
		return nil, fmt.Errorf("%s: chunks of rank %d for a dataspace of rank %d", path, rank, len(shape))
	}
	if lay.chunk[rank] != uint64(elemSize) {
		return nil, fmt.Errorf("%s: chunk element size %d, datatype size %d", path, lay.chunk[rank], elemSize)
	}
	chunkBytes := uint64(elemSize)
	for _, c := range lay.chunk[:rank] {
		chunkBytes *= c
		if chunkBytes > uint64(rd.budget)+nbytes {
			return nil, fmt.Errorf("%s: chunk of %v elements exceeds the read limit", path, lay.chunk[:rank])
		}
	}
	for _, f := range filters {
		switch f.id {
		case 1, 2, 3:
		default:
			return nil, fmt.Errorf("%s: filter %d is not supported (deflate 1, shuffle 2 and fletcher32 3 are)", path, f.id)
		}
	}
	out := make([]byte, nbytes)
	if lay.addr == undefined {
		return out, nil
	}
	c := &chunkWalk{rd: rd, path: path, shape: shape, elem: elemSize, chunk: lay.chunk[:rank],
		chunkBytes: chunkBytes, filters: filters, out: out}
	if err := c.node(lay.addr, 0); err != nil {
		return nil, err
	}
	return out, nil
}

type chunkWalk struct {
	rd         *reader
	path       string
	shape      []int
	elem       int
	chunk      []uint64
	chunkBytes uint64
	filters    []filter
	out        []byte
	chunks     int
}

func (c *chunkWalk) node(addr uint64, depth int) error {
	rd := c.rd
	if depth > maxDepth {
		return fmt.Errorf("%s: chunk B-tree deeper than %d levels", c.path, maxDepth)
	}
	hdr := uint64(8 + 2*rd.offSize)
	b, err := rd.at(addr, hdr, c.path+": chunk B-tree")
	if err != nil {
		return err
	}
	if string(b[:4]) != "TREE" || b[4] != 1 {
		return fmt.Errorf("%s: chunk B-tree node at %d: bad signature or node type %d", c.path, addr, b[4])
	}
	level := b[5]
	entries := uint64(binary.LittleEndian.Uint16(b[6:]))
	rank := len(c.chunk)
	keySize := uint64(8 + 8*(rank+1))
	body, err := rd.at(addr+hdr, entries*(keySize+uint64(rd.offSize))+keySize, c.path+": chunk B-tree")
	if err != nil {
		return err
	}
	d := &dec{b: body, rd: rd}
	offsets := make([]uint64, rank)
	for i := uint64(0); i < entries; i++ {
		size := d.u32()
		mask := d.u32()
		for j := range offsets {
			offsets[j] = d.uN(8)
		}
		d.skip(8)
		child := d.addr()
		if d.err != nil {
			return fmt.Errorf("%s: chunk B-tree: %w", c.path, d.err)
		}
		if level > 0 {
			if err := c.node(child, depth+1); err != nil {
				return err
			}
			continue
		}
		c.chunks++
		if c.chunks > 1<<20 {
			return fmt.Errorf("%s: more than %d chunks", c.path, 1<<20)
		}
		if err := c.copyChunk(child, uint64(size), mask, offsets); err != nil {
			return err
		}
	}
	return nil
}

func (c *chunkWalk) copyChunk(addr, size uint64, mask uint32, offsets []uint64) error {
	for j, o := range offsets {
		if o >= uint64(c.shape[j]) || o%c.chunk[j] != 0 {
			return fmt.Errorf("%s: chunk offset %v outside the shape %v or off the chunk grid %v", c.path, offsets, c.shape, c.chunk)
		}
	}
	if size > c.chunkBytes+(c.chunkBytes>>1)+(1<<16) && len(c.filters) == 0 {
		return fmt.Errorf("%s: chunk at %d holds %d bytes, want %d", c.path, addr, size, c.chunkBytes)
	}
	data, err := c.rd.at(addr, size, c.path+": chunk")
	if err != nil {
		return err
	}
	for i := len(c.filters) - 1; i >= 0; i-- {
		if mask&(1<<i) != 0 {
			continue
		}
		f := c.filters[i]
		switch f.id {
		case 1:
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: chunk at %d: deflate: %w", c.path, addr, err)
			}
			var buf bytes.Buffer
			n, err := io.Copy(&buf, io.LimitReader(zr, int64(c.chunkBytes)+1))
			if err != nil {
				return fmt.Errorf("%s: chunk at %d: deflate: %w", c.path, addr, err)
			}
			if err := c.rd.spend(n); err != nil {
				return fmt.Errorf("%s: chunk at %d: %w", c.path, addr, err)
			}
			if uint64(n) > c.chunkBytes {
				return fmt.Errorf("%s: chunk at %d inflates past its %d bytes", c.path, addr, c.chunkBytes)
			}
			data = buf.Bytes()
		case 2:
			data = unshuffle(data, c.elem)
		case 3:
			if len(data) < 4 {
				return fmt.Errorf("%s: chunk at %d: fletcher32: %d bytes", c.path, addr, len(data))
			}
			data = data[:len(data)-4]
		}
	}
	if uint64(len(data)) != c.chunkBytes {
		return fmt.Errorf("%s: chunk at %d holds %d bytes after filters, want %d", c.path, addr, len(data), c.chunkBytes)
	}
	// Copy the part of the chunk inside the dataspace, one run of the last
	// dimension at a time.
	rank := len(c.shape)
	if rank == 0 {
		copy(c.out, data)
		return nil
	}
	extent := make([]int, rank)
	for j := range extent {
		extent[j] = min(int(c.chunk[j]), c.shape[j]-int(offsets[j]))
	}
	idx := make([]int, rank) // position inside the chunk, last dimension excluded
	run := extent[rank-1] * c.elem
	for {
		src, dst := 0, 0
		for j := 0; j < rank; j++ {
			src = src*int(c.chunk[j]) + idx[j]
			dst = dst*c.shape[j] + int(offsets[j]) + idx[j]
		}
		copy(c.out[dst*c.elem:dst*c.elem+run], data[src*c.elem:src*c.elem+run])
		j := rank - 2
		for ; j >= 0; j-- {
			idx[j]++
			if idx[j] < extent[j] {
				break
			}
			idx[j] = 0
		}
		if j < 0 {
			return nil
		}
	}
}

func unshuffle(data []byte, elem int) []byte {
	if elem <= 1 {
		return data
	}
	n := len(data) / elem
	out := make([]byte, len(data))
	for b := 0; b < elem; b++ {
		for i := 0; i < n; i++ {
			out[i*elem+b] = data[b*n+i]
		}
	}
	copy(out[n*elem:], data[n*elem:])
	return out
}

// decode turns raw element bytes into the dataset's values.
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
