package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
)

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

// chunkWalk copies the chunks of one dataset, found in its chunk B-tree,
// into out.
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

// node walks the chunk B-tree node at addr.
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

// copyChunk reads the chunk of size bytes at addr, undoes the filters mask
// does not skip and copies it into place at offsets.
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
	if data, err = c.unfilter(addr, data, mask); err != nil {
		return err
	}
	if uint64(len(data)) != c.chunkBytes {
		return fmt.Errorf("%s: chunk at %d holds %d bytes after filters, want %d", c.path, addr, len(data), c.chunkBytes)
	}
	c.place(data, offsets)
	return nil
}

// unfilter undoes the filter pipeline on the chunk at addr, last filter
// first, skipping those its mask marks.
func (c *chunkWalk) unfilter(addr uint64, data []byte, mask uint32) ([]byte, error) {
	for i := len(c.filters) - 1; i >= 0; i-- {
		if mask&(1<<i) != 0 {
			continue
		}
		f := c.filters[i]
		switch f.id {
		case 1:
			zr, err := zlib.NewReader(bytes.NewReader(data))
			if err != nil {
				return nil, fmt.Errorf("%s: chunk at %d: deflate: %w", c.path, addr, err)
			}
			var buf bytes.Buffer
			n, err := io.Copy(&buf, io.LimitReader(zr, int64(c.chunkBytes)+1))
			if err != nil {
				return nil, fmt.Errorf("%s: chunk at %d: deflate: %w", c.path, addr, err)
			}
			if err := c.rd.spend(n); err != nil {
				return nil, fmt.Errorf("%s: chunk at %d: %w", c.path, addr, err)
			}
			if uint64(n) > c.chunkBytes {
				return nil, fmt.Errorf("%s: chunk at %d inflates past its %d bytes", c.path, addr, c.chunkBytes)
			}
			data = buf.Bytes()
		case 2:
			data = unshuffle(data, c.elem)
		case 3:
			if len(data) < 4 {
				return nil, fmt.Errorf("%s: chunk at %d: fletcher32: %d bytes", c.path, addr, len(data))
			}
			data = data[:len(data)-4]
		}
	}
	return data, nil
}

// place copies the part of a decoded chunk inside the dataspace into the
// output, one run of the last dimension at a time.
func (c *chunkWalk) place(data []byte, offsets []uint64) {
	rank := len(c.shape)
	if rank == 0 {
		copy(c.out, data)
		return
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
			return
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
