package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// Layout constants of the files Write produces (HDF5's defaults).
const (
	groupLeafK     = 4  // a symbol table node holds up to 2*4 entries
	groupInternalK = 16 // a group B-tree node holds up to 2*16 symbol nodes
	chunkK         = 32 // a chunk B-tree node holds up to 2*32 chunks
	superblockSize = 96
	maxGroupSize   = 2 * groupLeafK * 2 * groupInternalK // one B-tree level
)

// Write stores the tree rooted at root as an HDF5 file (superblock version
// 0, version 1 object headers, symbol-table groups, contiguous datasets or,
// where Deflate is set, one deflated chunk per dataset). The bytes depend on
// the tree only. Groups hold at most 256 members each.
func Write(w io.Writer, root *Group) error {
	if err := validate("/", root, 0); err != nil {
		return err
	}
	wr := &writer{buf: make([]byte, superblockSize), strings: map[*Dataset][]heapRef{}}
	if err := wr.globalHeaps(root); err != nil {
		return err
	}
	rootAddr, btree, heap, err := wr.group(root)
	if err != nil {
		return err
	}
	sb := wr.buf[:0:superblockSize]
	sb = append(sb, Signature...)
	sb = append(sb, 0, 0, 0, 0, 0, 8, 8, 0)
	sb = binary.LittleEndian.AppendUint16(sb, groupLeafK)
	sb = binary.LittleEndian.AppendUint16(sb, groupInternalK)
	sb = binary.LittleEndian.AppendUint32(sb, 0)
	sb = le64(sb, 0)                   // base address
	sb = le64(sb, undefined)           // free-space info
	sb = le64(sb, uint64(len(wr.buf))) // end of file
	sb = le64(sb, undefined)           // driver information
	sb = symbolEntry(sb, 0, rootAddr, true, btree, heap)
	if len(sb) != superblockSize {
		panic("hdf5: superblock size")
	}
	_, err = w.Write(wr.buf)
	return err
}

func validate(path string, g *Group, depth int) error {
	if g == nil {
		return fmt.Errorf("hdf5: %s: nil group", path)
	}
	if depth > maxDepth {
		return fmt.Errorf("hdf5: %s: groups nested deeper than %d", path, maxDepth)
	}
	if n := len(g.Groups) + len(g.Datasets); n > maxGroupSize {
		return fmt.Errorf("hdf5: %s: %d members, this writer stores at most %d per group", path, n, maxGroupSize)
	}
	for name, sub := range g.Groups {
		if err := checkName(path, name); err != nil {
			return err
		}
		if _, dup := g.Datasets[name]; dup {
			return fmt.Errorf("hdf5: %s: %q is both a group and a dataset", path, name)
		}
		if err := validate(strings.TrimSuffix(path, "/")+"/"+name, sub, depth+1); err != nil {
			return err
		}
	}
	for name, d := range g.Datasets {
		if err := checkName(path, name); err != nil {
			return err
		}
		where := strings.TrimSuffix(path, "/") + "/" + name
		if d == nil {
			return fmt.Errorf("hdf5: %s: nil dataset", where)
		}
		if d.Kind < Float32 || d.Kind > String {
			return fmt.Errorf("hdf5: %s: cannot write a dataset of kind %s", where, d.Kind)
		}
		if len(d.Shape) > maxRank {
			return fmt.Errorf("hdf5: %s: rank %d exceeds %d", where, len(d.Shape), maxRank)
		}
		for _, s := range d.Shape {
			if s < 0 || s > math.MaxUint32 {
				return fmt.Errorf("hdf5: %s: dimension %d in shape %v", where, s, d.Shape)
			}
		}
		if d.Values() != d.Len() {
			return fmt.Errorf("hdf5: %s: shape %v holds %d values, the dataset has %d", where, d.Shape, d.Len(), d.Values())
		}
		if d.Deflate < 0 || d.Deflate > 9 {
			return fmt.Errorf("hdf5: %s: deflate level %d, want 0..9", where, d.Deflate)
		}
		for _, s := range d.Strings {
			if len(s) > math.MaxUint32 {
				return fmt.Errorf("hdf5: %s: string of %d bytes", where, len(s))
			}
		}
	}
	return nil
}

func checkName(path, name string) error {
	if name == "" || name == "." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("hdf5: %s: invalid member name %q", path, name)
	}
	return nil
}

type heapRef struct {
	collection uint64
	index      uint16
	length     uint32
}

type writer struct {
	buf     []byte
	strings map[*Dataset][]heapRef
}

func le64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// put appends b at an 8-aligned address and returns that address.
func (w *writer) put(b []byte) uint64 {
	for len(w.buf)%8 != 0 {
		w.buf = append(w.buf, 0)
	}
	addr := uint64(len(w.buf))
	w.buf = append(w.buf, b...)
	return addr
}

// globalHeaps stores every variable-length string of the tree in global heap
// collections (walked in name order), before any dataset refers to them.
func (w *writer) globalHeaps(root *Group) error {
	var all []*Dataset
	var walk func(g *Group)
	walk = func(g *Group) {
		for _, n := range g.Names() {
			if sub, ok := g.Groups[n]; ok {
				walk(sub)
			} else if d := g.Datasets[n]; d.Kind == String {
				all = append(all, d)
			}
		}
	}
	walk(root)
	type pending struct {
		d      *Dataset
		length uint32
	}
	var objs [][]byte
	var refs []pending
	flush := func() {
		if len(objs) == 0 {
			return
		}
		coll := w.collection(objs)
		for i, p := range refs {
			w.strings[p.d] = append(w.strings[p.d], heapRef{coll, uint16(i + 1), p.length})
		}
		objs, refs = objs[:0], refs[:0]
	}
	for _, d := range all {
		for _, s := range d.Strings {
			if len(objs) == math.MaxUint16 {
				flush()
			}
			objs = append(objs, []byte(s))
			refs = append(refs, pending{d, uint32(len(s))})
		}
	}
	flush()
	return nil
}

// collection writes one global heap collection and returns its address.
func (w *writer) collection(objs [][]byte) uint64 {
	var b []byte
	b = append(b, "GCOL"...)
	b = append(b, 1, 0, 0, 0)
	b = le64(b, 0) // size, patched below
	for i, o := range objs {
		b = binary.LittleEndian.AppendUint16(b, uint16(i+1))
		b = binary.LittleEndian.AppendUint16(b, 1) // reference count
		b = append(b, 0, 0, 0, 0)
		b = le64(b, uint64(len(o)))
		b = append(b, o...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	// HDF5 reads at least 4096 bytes of a collection; the rest is one free
	// object (index 0) whose size counts its own header.
	size := max(4096, len(b)+16)
	free := size - len(b)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = le64(b, uint64(free))
	b = append(b, make([]byte, size-len(b))...)
	binary.LittleEndian.PutUint64(b[8:], uint64(size))
	return w.put(b)
}

// objectHeader writes a version 1 object header holding msgs.
func (w *writer) objectHeader(msgs []message) uint64 {
	var body []byte
	for _, m := range msgs {
		size := (len(m.data) + 7) &^ 7
		body = binary.LittleEndian.AppendUint16(body, m.typ)
		body = binary.LittleEndian.AppendUint16(body, uint16(size))
		flags := byte(0)
		if m.typ == 0x03 || m.typ == 0x05 {
			flags = 1 // constant, as HDF5 marks datatype and fill value messages
		}
		body = append(body, flags, 0, 0, 0)
		body = append(body, m.data...)
		body = append(body, make([]byte, size-len(m.data))...)
	}
	var b []byte
	b = append(b, 1, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(msgs)))
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, 0, 0, 0, 0)
	return w.put(append(b, body...))
}

func symbolEntry(b []byte, nameOffset, header uint64, group bool, btree, heap uint64) []byte {
	b = le64(b, nameOffset)
	b = le64(b, header)
	if group {
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = append(b, 0, 0, 0, 0)
		b = le64(b, btree)
		return le64(b, heap)
	}
	return append(b, make([]byte, 24)...)
}

// group writes a group's members, its local heap, symbol nodes, B-tree
// and object header; it returns the header, B-tree and heap addresses.
func (w *writer) group(g *Group) (header, btree, heap uint64, err error) {
	names := g.Names()
	members, err := w.members(g, names)
	if err != nil {
		return 0, 0, 0, err
	}
	heap, offsets := w.localHeap(names)
	btree = w.symbolTable(members, offsets)
	var stab []byte
	stab = le64(stab, btree)
	stab = le64(stab, heap)
	header = w.objectHeader([]message{{0x11, stab}})
	return header, btree, heap, nil
}

// groupMember is where a written group member's object header (and, for a
// group, its B-tree and heap) went.
type groupMember struct {
	header, btree, heap uint64
	group               bool
}

// members writes the groups and datasets of g, in the order of names.
func (w *writer) members(g *Group, names []string) ([]groupMember, error) {
	members := make([]groupMember, len(names))
	for i, n := range names {
		if sub, ok := g.Groups[n]; ok {
			h, b, hp, err := w.group(sub)
			if err != nil {
				return nil, err
			}
			members[i] = groupMember{h, b, hp, true}
			continue
		}
		h, err := w.dataset(g.Datasets[n])
		if err != nil {
			return nil, err
		}
		members[i] = groupMember{header: h}
	}
	return members, nil
}

// localHeap writes the local heap of names and returns its address and each
// name's offset in it. Offset 0 is the empty string; names follow, 8-aligned.
func (w *writer) localHeap(names []string) (uint64, []uint64) {
	data := make([]byte, 8)
	offsets := make([]uint64, len(names))
	for i, n := range names {
		offsets[i] = uint64(len(data))
		data = append(data, n...)
		data = append(data, 0)
		for len(data)%8 != 0 {
			data = append(data, 0)
		}
	}
	var hb []byte
	hb = append(hb, "HEAP"...)
	hb = append(hb, 0, 0, 0, 0)
	hb = le64(hb, uint64(len(data)))
	hb = le64(hb, 1) // no free block
	heap := w.put(append(hb, make([]byte, 8)...))
	dataAddr := w.put(data) // before indexing w.buf: put may move it
	binary.LittleEndian.PutUint64(w.buf[heap+24:], dataAddr)
	return heap, offsets
}

// symbolTable writes symbol table nodes of up to 8 entries, in name order,
// and one B-tree leaf over them, and returns the B-tree's address.
func (w *writer) symbolTable(members []groupMember, offsets []uint64) uint64 {
	perNode := 2 * groupLeafK
	var nodes []uint64
	var keys []uint64 // heap offset of each node's last name
	for start := 0; start < len(members); start += perNode {
		end := min(start+perNode, len(members))
		var sb []byte
		sb = append(sb, "SNOD"...)
		sb = append(sb, 1, 0)
		sb = binary.LittleEndian.AppendUint16(sb, uint16(end-start))
		for i := start; i < end; i++ {
			m := members[i]
			sb = symbolEntry(sb, offsets[i], m.header, m.group, m.btree, m.heap)
		}
		sb = append(sb, make([]byte, 8+perNode*40-len(sb))...)
		nodes = append(nodes, w.put(sb))
		keys = append(keys, offsets[end-1])
	}
	// The B-tree leaf is allocated at full size.
	var bt []byte
	bt = append(bt, "TREE"...)
	bt = append(bt, 0, 0)
	bt = binary.LittleEndian.AppendUint16(bt, uint16(len(nodes)))
	bt = le64(bt, undefined)
	bt = le64(bt, undefined)
	bt = le64(bt, 0)
	for i, n := range nodes {
		bt = le64(bt, n)
		bt = le64(bt, keys[i])
	}
	bt = append(bt, make([]byte, 24+2*groupInternalK*8+(2*groupInternalK+1)*8-len(bt))...)
	return w.put(bt)
}

// dataset writes a dataset's data and object header.
func (w *writer) dataset(d *Dataset) (uint64, error) {
	raw, dtype := w.encode(d)
	var space []byte
	if len(d.Shape) == 0 {
		space = []byte{1, 0, 0, 0, 0, 0, 0, 0}
	} else {
		space = []byte{1, byte(len(d.Shape)), 1, 0, 0, 0, 0, 0}
		for range 2 { // dimensions, then maximum dimensions
			for _, s := range d.Shape {
				space = le64(space, uint64(s))
			}
		}
	}
	fill := []byte{2, 2, 2, 1, 0, 0, 0, 0}
	if d.Kind == String {
		fill[2] = 0
	}
	if d.Deflate > 0 && len(d.Shape) > 0 && len(raw) > 0 {
		var z bytes.Buffer
		zw, err := zlib.NewWriterLevel(&z, d.Deflate)
		if err != nil {
			return 0, err
		}
		zw.Write(raw)
		zw.Close()
		if z.Len() > math.MaxUint32 || len(raw) > math.MaxUint32 {
			return 0, fmt.Errorf("hdf5: a chunk of %d bytes exceeds HDF5's 4 GiB chunk limit", len(raw))
		}
		chunk := w.put(z.Bytes())
		elem := len(raw) / d.Len()
		var bt []byte
		bt = append(bt, "TREE"...)
		bt = append(bt, 1, 0)
		bt = binary.LittleEndian.AppendUint16(bt, 1)
		bt = le64(bt, undefined)
		bt = le64(bt, undefined)
		bt = binary.LittleEndian.AppendUint32(bt, uint32(z.Len()))
		bt = binary.LittleEndian.AppendUint32(bt, 0)
		bt = append(bt, make([]byte, 8*(len(d.Shape)+1))...)
		bt = le64(bt, chunk)
		bt = binary.LittleEndian.AppendUint32(bt, 0)
		bt = binary.LittleEndian.AppendUint32(bt, 0)
		for _, s := range d.Shape {
			bt = le64(bt, uint64(s))
		}
		bt = le64(bt, 0)
		keySize := 8 + 8*(len(d.Shape)+1)
		bt = append(bt, make([]byte, 24+2*chunkK*8+(2*chunkK+1)*keySize-len(bt))...)
		btree := w.put(bt)
		lay := []byte{3, 2, byte(len(d.Shape) + 1)}
		lay = le64(lay, btree)
		for _, s := range d.Shape {
			lay = binary.LittleEndian.AppendUint32(lay, uint32(s))
		}
		lay = binary.LittleEndian.AppendUint32(lay, uint32(elem))
		pipeline := []byte{1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 1, 0, 1, 0}
		pipeline = append(pipeline, "deflate\x00"...)
		pipeline = binary.LittleEndian.AppendUint32(pipeline, uint32(d.Deflate))
		pipeline = append(pipeline, 0, 0, 0, 0)
		fill[1] = 3 // incremental allocation, HDF5's default for chunks
		return w.objectHeader([]message{{0x01, space}, {0x03, dtype}, {0x05, fill}, {0x08, lay}, {0x0b, pipeline}}), nil
	}
	addr := undefined
	if len(raw) > 0 {
		addr = w.put(raw)
	}
	lay := []byte{3, 1}
	lay = le64(lay, addr)
	lay = le64(lay, uint64(len(raw)))
	return w.objectHeader([]message{{0x01, space}, {0x03, dtype}, {0x05, fill}, {0x08, lay}}), nil
}

// Datatype messages as HDF5 (and h5py) write them.
var (
	float32Type = []byte{0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0}
	float64Type = []byte{0x11, 0x20, 0x3f, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0}
	int64Type   = []byte{0x10, 0x08, 0x00, 0x00, 8, 0, 0, 0, 0, 0, 64, 0}
	// Variable-length UTF-8 string over unsigned bytes.
	vlenStringType = []byte{0x19, 0x01, 0x01, 0x00, 16, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0}
)

// encode returns a dataset's raw little-endian bytes and datatype message.
func (w *writer) encode(d *Dataset) ([]byte, []byte) {
	switch d.Kind {
	case Float32:
		raw := make([]byte, 0, 4*len(d.Float32))
		for _, v := range d.Float32 {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		return raw, float32Type
	case Float64:
		raw := make([]byte, 0, 8*len(d.Float64))
		for _, v := range d.Float64 {
			raw = le64(raw, math.Float64bits(v))
		}
		return raw, float64Type
	case Int64:
		raw := make([]byte, 0, 8*len(d.Int64))
		for _, v := range d.Int64 {
			raw = le64(raw, uint64(v))
		}
		return raw, int64Type
	}
	refs := w.strings[d]
	raw := make([]byte, 0, 16*len(refs))
	for _, r := range refs {
		raw = binary.LittleEndian.AppendUint32(raw, r.length)
		raw = le64(raw, r.collection)
		raw = binary.LittleEndian.AppendUint32(raw, uint32(r.index))
	}
	return raw, vlenStringType
}
