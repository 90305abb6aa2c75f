package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Signature is the 8 bytes that open an HDF5 superblock.
const Signature = "\x89HDF\r\n\x1a\n"

// ErrNotHDF5 is returned when no superblock signature is found.
var ErrNotHDF5 = errors.New("not an HDF5 file (no superblock signature at 0, 512, 1024, ...)")

// ReadOptions bound what a reader may allocate.
type ReadOptions struct {
	// MaxBytes caps the decoded bytes of all datasets together (after
	// decompression); 0 means DefaultMaxBytes.
	MaxBytes int64
}

// DefaultMaxBytes is the decoded-data cap when ReadOptions.MaxBytes is 0.
const DefaultMaxBytes = 1 << 28

const (
	maxDepth   = 64      // nested groups and B-tree levels
	maxObjects = 1 << 16 // groups and datasets in one file
	maxRank    = 32
	undefined  = ^uint64(0)
)

// ReadFile reads the HDF5 file at path (see Read).
func ReadFile(path string) (*Group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("hdf5: %s: %w", path, err)
	}
	g, err := Read(f, info.Size(), ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("hdf5: %s: %w", path, err)
	}
	return g, nil
}

// Read reads the whole tree of an HDF5 file of size bytes from r.
func Read(r io.ReaderAt, size int64, opts ReadOptions) (*Group, error) {
	rd := &reader{r: r, size: size, budget: opts.MaxBytes, heaps: map[uint64]map[uint16][]byte{}}
	if rd.budget <= 0 {
		rd.budget = DefaultMaxBytes
	}
	// Reads, inflation and B-tree visits together may touch every byte of
	// the file and of the decoded data a few times over, no more: a file
	// whose structures point back at themselves runs out of work instead
	// of running for ever.
	rd.work = 8*(size+rd.budget) + 1<<20
	rootAddr, err := rd.superblock()
	if err != nil {
		return nil, err
	}
	root, err := rd.object("/", rootAddr, nil, 0)
	if err != nil {
		return nil, err
	}
	if root.group == nil {
		return nil, errors.New("/: the root object is not a group")
	}
	return root.group, nil
}

type reader struct {
	r       io.ReaderAt
	size    int64
	base    uint64 // address of the superblock; file addresses are relative to it
	offSize int
	lenSize int
	budget  int64 // decoded bytes still allowed
	work    int64 // bytes still allowed to be read or inflated
	objects int
	heaps   map[uint64]map[uint16][]byte // global heap collections by address
}

// at reads n bytes at file address addr (relative to the base).
func (rd *reader) at(addr uint64, n uint64, what string) ([]byte, error) {
	if addr == undefined {
		return nil, fmt.Errorf("%s: undefined address", what)
	}
	abs := addr + rd.base
	if abs < addr || n > uint64(rd.size) || abs > uint64(rd.size)-n {
		return nil, fmt.Errorf("%s: %d bytes at address %d run past the end of the %d-byte file", what, n, addr, rd.size)
	}
	if err := rd.spend(int64(n) + 64); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	buf := make([]byte, n)
	if _, err := rd.r.ReadAt(buf, int64(abs)); err != nil && !(err == io.EOF && n > 0) {
		return nil, fmt.Errorf("%s: reading %d bytes at %d: %w", what, n, addr, err)
	}
	return buf, nil
}

// spend takes n bytes of work; structures visited again and again run out.
func (rd *reader) spend(n int64) error {
	rd.work -= n
	if rd.work < 0 {
		return errors.New("the file's structures need more reading than its size allows (do they loop?)")
	}
	return nil
}

// dec is a bounds-checked little-endian decoder over one buffer.
type dec struct {
	b   []byte
	pos int
	err error
	rd  *reader
}

func (d *dec) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || d.pos+n > len(d.b) {
		d.err = fmt.Errorf("truncated: need %d bytes at %d of %d", n, d.pos, len(d.b))
		return false
	}
	return true
}

func (d *dec) skip(n int) {
	if d.need(n) {
		d.pos += n
	}
}

func (d *dec) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	d.pos += n
	return d.b[d.pos-n : d.pos]
}

func (d *dec) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	d.pos++
	return d.b[d.pos-1]
}

func (d *dec) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	d.pos += 2
	return binary.LittleEndian.Uint16(d.b[d.pos-2:])
}

func (d *dec) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	d.pos += 4
	return binary.LittleEndian.Uint32(d.b[d.pos-4:])
}

func (d *dec) uN(n int) uint64 {
	if !d.need(n) {
		return 0
	}
	var v uint64
	all := true
	for i := 0; i < n; i++ {
		v |= uint64(d.b[d.pos+i]) << (8 * i)
		all = all && d.b[d.pos+i] == 0xff
	}
	d.pos += n
	if all {
		return undefined
	}
	return v
}

func (d *dec) addr() uint64   { return d.uN(d.rd.offSize) }
func (d *dec) length() uint64 { return d.uN(d.rd.lenSize) }

// superblock finds and parses a version 0 or 1 superblock and returns the
// root group's object header address.
func (rd *reader) superblock() (uint64, error) {
	sig := make([]byte, 8)
	found := false
	for off := int64(0); off+96 <= rd.size; off = max(512, off*2) {
		if _, err := rd.r.ReadAt(sig, off); err != nil {
			return 0, fmt.Errorf("superblock: %w", err)
		}
		if string(sig) == Signature {
			rd.base = uint64(off)
			found = true
			break
		}
	}
	if !found {
		return 0, ErrNotHDF5
	}
	head, err := rd.at(0, 24, "superblock")
	if err != nil {
		return 0, err
	}
	version := head[8]
	if version > 1 {
		return 0, fmt.Errorf("superblock version %d, this reader handles versions 0 and 1 (files written with libver='earliest', as NIR's are)", version)
	}
	rd.offSize, rd.lenSize = int(head[13]), int(head[14])
	if rd.offSize != 8 && rd.offSize != 4 || rd.lenSize != 8 && rd.lenSize != 4 {
		return 0, fmt.Errorf("superblock: offset size %d, length size %d; want 4 or 8", rd.offSize, rd.lenSize)
	}
	n := 24 + 4*rd.offSize + 2*rd.offSize + 8 + 16
	if version == 1 {
		n += 4
	}
	b, err := rd.at(0, uint64(n), "superblock")
	if err != nil {
		return 0, err
	}
	d := &dec{b: b, pos: 24, rd: rd}
	if version == 1 {
		d.skip(4)
	}
	base := d.addr()
	d.addr() // free-space info
	d.addr() // end of file
	d.addr() // driver information
	// Root group symbol table entry.
	d.addr() // link name offset
	root := d.addr()
	if d.err != nil {
		return 0, fmt.Errorf("superblock: %w", d.err)
	}
	if base != 0 && base != rd.base {
		return 0, fmt.Errorf("superblock: base address %d differs from the signature's offset %d", base, rd.base)
	}
	return root, nil
}

// message is one object header message.
type message struct {
	typ  uint16
	data []byte
}

// headerMessages reads a version 1 object header and its continuation
// blocks.
func (rd *reader) headerMessages(addr uint64, path string) ([]message, error) {
	pre, err := rd.at(addr, 16, path+": object header")
	if err != nil {
		return nil, err
	}
	if pre[0] != 1 {
		if string(pre[:4]) == "OHDR" {
			return nil, fmt.Errorf("%s: version 2 object header (files written with libver='latest'); this reader handles version 1", path)
		}
		return nil, fmt.Errorf("%s: object header version %d, want 1", path, pre[0])
	}
	total := int(binary.LittleEndian.Uint16(pre[2:]))
	type block struct{ addr, size uint64 }
	blocks := []block{{addr + 16, uint64(binary.LittleEndian.Uint32(pre[8:]))}}
	var msgs []message
	for i := 0; i < len(blocks); i++ {
		if i > 1024 {
			return nil, fmt.Errorf("%s: object header has more than 1024 continuation blocks", path)
		}
		blk := blocks[i]
		b, err := rd.at(blk.addr, blk.size, path+": object header")
		if err != nil {
			return nil, err
		}
		d := &dec{b: b, rd: rd}
		for d.pos+8 <= len(b) && len(msgs) < total {
			typ := d.u16()
			size := int(d.u16())
			d.skip(4) // flags, reserved
			data := d.bytes(size)
			if d.err != nil {
				return nil, fmt.Errorf("%s: object header message %#x: %w", path, typ, d.err)
			}
			if pad := d.pos % 8; pad != 0 && d.pos+8-pad <= len(b) {
				d.pos += 8 - pad
			}
			msgs = append(msgs, message{typ, data})
			if typ == 0x10 {
				c := &dec{b: data, rd: rd}
				a, n := c.addr(), c.length()
				if c.err != nil {
					return nil, fmt.Errorf("%s: continuation message: %w", path, c.err)
				}
				blocks = append(blocks, block{a, n})
			}
		}
	}
	return msgs, nil
}

// object is a group or a dataset.
type object struct {
	group   *Group
	dataset *Dataset
}

// object reads the object at addr; ancestors are the group addresses above
// it (a group among them is a cycle).
func (rd *reader) object(path string, addr uint64, ancestors []uint64, depth int) (object, error) {
	if depth > maxDepth {
		return object{}, fmt.Errorf("%s: groups nested deeper than %d", path, maxDepth)
	}
	rd.objects++
	if rd.objects > maxObjects {
		return object{}, fmt.Errorf("%s: more than %d objects in the file", path, maxObjects)
	}
	for _, a := range ancestors {
		if a == addr {
			return object{}, fmt.Errorf("%s: group cycle (the group contains itself)", path)
		}
	}
	msgs, err := rd.headerMessages(addr, path)
	if err != nil {
		return object{}, err
	}
	var stab []byte
	for _, m := range msgs {
		switch m.typ {
		case 0x11:
			stab = m.data
		case 0x02, 0x06:
			return object{}, fmt.Errorf("%s: a group stored with link messages (HDF5 1.8 'new-style' group); this reader handles symbol-table groups", path)
		}
	}
	if stab != nil {
		g, err := rd.group(path, stab, append(ancestors, addr), depth)
		return object{group: g}, err
	}
	ds, err := rd.dataset(path, msgs)
	return object{dataset: ds}, err
}

// group reads a symbol-table group from its symbol table message.
func (rd *reader) group(path string, stab []byte, ancestors []uint64, depth int) (*Group, error) {
	d := &dec{b: stab, rd: rd}
	btree, heapAddr := d.addr(), d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("%s: symbol table message: %w", path, d.err)
	}
	heap, err := rd.localHeap(heapAddr, path)
	if err != nil {
		return nil, err
	}
	var entries []symbol
	if err := rd.groupBTree(btree, path, 0, &entries); err != nil {
		return nil, err
	}
	g := NewGroup()
	for _, e := range entries {
		if e.nameOffset >= uint64(len(heap)) {
			return nil, fmt.Errorf("%s: link name offset %d outside the %d-byte local heap", path, e.nameOffset, len(heap))
		}
		name := heap[e.nameOffset:]
		end := bytes.IndexByte(name, 0)
		if end < 0 {
			return nil, fmt.Errorf("%s: link name at heap offset %d is not terminated", path, e.nameOffset)
		}
		n := string(name[:end])
		if n == "" || strings.Contains(n, "/") {
			return nil, fmt.Errorf("%s: invalid member name %q", path, n)
		}
		if _, dup := g.Groups[n]; dup {
			return nil, fmt.Errorf("%s: member %q listed twice", path, n)
		}
		if _, dup := g.Datasets[n]; dup {
			return nil, fmt.Errorf("%s: member %q listed twice", path, n)
		}
		child := strings.TrimSuffix(path, "/") + "/" + n
		obj, err := rd.object(child, e.header, ancestors, depth+1)
		if err != nil {
			return nil, err
		}
		if obj.group != nil {
			g.Groups[n] = obj.group
		} else if obj.dataset != nil {
			g.Datasets[n] = obj.dataset
		}
	}
	return g, nil
}

type symbol struct{ nameOffset, header uint64 }

// localHeap returns the data segment of a local heap.
func (rd *reader) localHeap(addr uint64, path string) ([]byte, error) {
	b, err := rd.at(addr, uint64(8+2*rd.lenSize+rd.offSize), path+": local heap")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "HEAP" {
		return nil, fmt.Errorf("%s: local heap at %d has no HEAP signature", path, addr)
	}
	d := &dec{b: b, pos: 8, rd: rd}
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("%s: local heap: %w", path, d.err)
	}
	return rd.at(data, size, path+": local heap data")
}

// groupBTree walks a version 1 B-tree of group nodes and appends the
// symbol table entries of its symbol nodes.
func (rd *reader) groupBTree(addr uint64, path string, depth int, out *[]symbol) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: group B-tree deeper than %d levels", path, maxDepth)
	}
	hdr := uint64(8 + 2*rd.offSize)
	b, err := rd.at(addr, hdr, path+": group B-tree")
	if err != nil {
		return err
	}
	if string(b[:4]) != "TREE" || b[4] != 0 {
		return fmt.Errorf("%s: group B-tree node at %d: bad signature or node type %d", path, addr, b[4])
	}
	level := b[5]
	entries := uint64(binary.LittleEndian.Uint16(b[6:]))
	body, err := rd.at(addr+hdr, entries*uint64(rd.lenSize+rd.offSize)+uint64(rd.lenSize), path+": group B-tree")
	if err != nil {
		return err
	}
	d := &dec{b: body, rd: rd}
	for i := uint64(0); i < entries; i++ {
		d.length() // key
		child := d.addr()
		if d.err != nil {
			return fmt.Errorf("%s: group B-tree: %w", path, d.err)
		}
		if level > 0 {
			if err := rd.groupBTree(child, path, depth+1, out); err != nil {
				return err
			}
			continue
		}
		if err := rd.symbolNode(child, path, out); err != nil {
			return err
		}
		if len(*out) > maxObjects {
			return fmt.Errorf("%s: more than %d members", path, maxObjects)
		}
	}
	return nil
}

func (rd *reader) symbolNode(addr uint64, path string, out *[]symbol) error {
	b, err := rd.at(addr, 8, path+": symbol table node")
	if err != nil {
		return err
	}
	if string(b[:4]) != "SNOD" {
		return fmt.Errorf("%s: symbol table node at %d has no SNOD signature", path, addr)
	}
	n := uint64(binary.LittleEndian.Uint16(b[6:]))
	entrySize := uint64(2*rd.offSize + 24)
	body, err := rd.at(addr+8, n*entrySize, path+": symbol table node")
	if err != nil {
		return err
	}
	d := &dec{b: body, rd: rd}
	for i := uint64(0); i < n; i++ {
		name := d.addr()
		header := d.addr()
		d.skip(24)
		*out = append(*out, symbol{name, header})
	}
	return d.err
}
