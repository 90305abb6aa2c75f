package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Buffer is a ring buffer of transitions. It is not safe for concurrent use.
type Buffer struct {
	capacity   int
	obsSize    int
	obs        []float32 // (capacity, obsSize)
	nextObs    []float32 // (capacity, obsSize)
	actions    []int32
	rewards    []float32
	terminated []float32 // 1 where the episode terminated (not truncated)
	pos        int       // where the next Add writes
	size       int       // number of stored transitions
}

// New returns an empty buffer for capacity transitions of obsSize-float observations.
func New(capacity, obsSize int) (*Buffer, error) {
	if capacity <= 0 {
		return nil, fmt.Errorf("replay: capacity must be positive, got %d", capacity)
	}
	if obsSize <= 0 {
		return nil, fmt.Errorf("replay: observation size must be positive, got %d", obsSize)
	}
	if capacity > math.MaxInt32 || capacity*obsSize/obsSize != capacity {
		return nil, fmt.Errorf("replay: capacity %d x observation size %d is too large", capacity, obsSize)
	}
	return &Buffer{
		capacity:   capacity,
		obsSize:    obsSize,
		obs:        make([]float32, capacity*obsSize),
		nextObs:    make([]float32, capacity*obsSize),
		actions:    make([]int32, capacity),
		rewards:    make([]float32, capacity),
		terminated: make([]float32, capacity),
	}, nil
}

// Capacity is the most transitions the buffer holds.
func (b *Buffer) Capacity() int { return b.capacity }

// ObsSize is the number of floats per observation.
func (b *Buffer) ObsSize() int { return b.obsSize }

// Len is the number of stored transitions.
func (b *Buffer) Len() int { return b.size }

// Pos is the slot the next Add writes.
func (b *Buffer) Pos() int { return b.pos }

// Add stores one transition, overwriting the oldest when full. obs and
// nextObs are copied. It panics if they do not hold ObsSize values.
func (b *Buffer) Add(obs []float32, action int, reward float32, nextObs []float32, terminated bool) {
	if len(obs) != b.obsSize || len(nextObs) != b.obsSize {
		panic(fmt.Sprintf("replay: Add: observations hold %d and %d values, want %d", len(obs), len(nextObs), b.obsSize))
	}
	p := b.pos
	copy(b.obs[p*b.obsSize:(p+1)*b.obsSize], obs)
	copy(b.nextObs[p*b.obsSize:(p+1)*b.obsSize], nextObs)
	b.actions[p] = int32(action)
	b.rewards[p] = reward
	b.terminated[p] = 0
	if terminated {
		b.terminated[p] = 1
	}
	b.pos++
	if b.pos == b.capacity {
		b.pos = 0
	}
	if b.size < b.capacity {
		b.size++
	}
}

// Batch is a caller-owned mini-batch. Obs and NextObs are (Size, obsSize)
// row-major; Terminated is 1 or 0 per sample; Indices are the buffer slots drawn.
type Batch struct {
	Size       int
	Obs        []float32
	NextObs    []float32
	Actions    []int
	Rewards    []float32
	Terminated []float32
	Indices    []int
}

// NewBatch allocates a batch of size samples of obsSize-float observations.
func NewBatch(size, obsSize int) *Batch {
	return &Batch{
		Size:       size,
		Obs:        make([]float32, size*obsSize),
		NextObs:    make([]float32, size*obsSize),
		Actions:    make([]int, size),
		Rewards:    make([]float32, size),
		Terminated: make([]float32, size),
		Indices:    make([]int, size),
	}
}

// Sample fills dst with dst.Size transitions drawn uniformly with replacement,
// one rng.IntN(Len) per sample in order. It panics on an empty buffer or a
// batch shaped for another observation size.
func (b *Buffer) Sample(dst *Batch, rng *rand.Rand) {
	if b.size == 0 {
		panic("replay: Sample from an empty buffer")
	}
	if len(dst.Obs) != dst.Size*b.obsSize || len(dst.NextObs) != dst.Size*b.obsSize ||
		len(dst.Actions) != dst.Size || len(dst.Rewards) != dst.Size ||
		len(dst.Terminated) != dst.Size || len(dst.Indices) != dst.Size {
		panic(fmt.Sprintf("replay: Sample: batch is not shaped for %d samples of %d values", dst.Size, b.obsSize))
	}
	n := b.obsSize
	for i := 0; i < dst.Size; i++ {
		j := rng.IntN(b.size)
		dst.Indices[i] = j
		copy(dst.Obs[i*n:(i+1)*n], b.obs[j*n:(j+1)*n])
		copy(dst.NextObs[i*n:(i+1)*n], b.nextObs[j*n:(j+1)*n])
		dst.Actions[i] = int(b.actions[j])
		dst.Rewards[i] = b.rewards[j]
		dst.Terminated[i] = b.terminated[j]
	}
}

const magic = "SBREPLY1"

// ErrCorrupt reports a serialized buffer that cannot be read back.
var ErrCorrupt = errors.New("replay: corrupt buffer data")

// WriteTo writes the buffer (sizes, position and the stored transitions) in
// little-endian binary. Only the first Len slots are written.
func (b *Buffer) WriteTo(w io.Writer) (int64, error) {
	hdr := make([]byte, 0, len(magic)+32)
	hdr = append(hdr, magic...)
	for _, v := range []int{b.capacity, b.obsSize, b.pos, b.size} {
		hdr = binary.LittleEndian.AppendUint64(hdr, uint64(v))
	}
	total := int64(0)
	n, err := w.Write(hdr)
	total += int64(n)
	if err != nil {
		return total, err
	}
	body := make([]byte, 0, b.size*(8*b.obsSize+16))
	for _, v := range b.obs[:b.size*b.obsSize] {
		body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
	}
	for _, v := range b.nextObs[:b.size*b.obsSize] {
		body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
	}
	for _, v := range b.actions[:b.size] {
		body = binary.LittleEndian.AppendUint32(body, uint32(v))
	}
	for _, v := range b.rewards[:b.size] {
		body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
	}
	for _, v := range b.terminated[:b.size] {
		body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
	}
	n, err = w.Write(body)
	total += int64(n)
	return total, err
}

// ReadFrom replaces the buffer's contents with data written by WriteTo. The
// capacity and observation size in the data must equal this buffer's; sizes
// are checked before anything is read into the buffer, and on error the
// buffer is left unchanged.
func (b *Buffer) ReadFrom(r io.Reader) (int64, error) {
	hdr := make([]byte, len(magic)+32)
	n, err := io.ReadFull(r, hdr)
	total := int64(n)
	if err != nil {
		return total, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if string(hdr[:len(magic)]) != magic {
		return total, fmt.Errorf("%w: bad magic %q", ErrCorrupt, hdr[:len(magic)])
	}
	var v [4]uint64
	for i := range v {
		v[i] = binary.LittleEndian.Uint64(hdr[len(magic)+8*i:])
	}
	capacity, obsSize, pos, size := v[0], v[1], v[2], v[3]
	if capacity != uint64(b.capacity) || obsSize != uint64(b.obsSize) {
		return total, fmt.Errorf("replay: stored buffer has capacity %d and observation size %d, want %d and %d",
			capacity, obsSize, b.capacity, b.obsSize)
	}
	if size > capacity || pos >= capacity || (size < capacity && pos != size) {
		return total, fmt.Errorf("%w: position %d and size %d inconsistent with capacity %d", ErrCorrupt, pos, size, capacity)
	}
	s, o := int(size), int(obsSize)
	body := make([]byte, 4*(2*s*o+3*s))
	n, err = io.ReadFull(r, body)
	total += int64(n)
	if err != nil {
		return total, fmt.Errorf("%w: transitions: %v", ErrCorrupt, err)
	}
	next := func() uint32 { x := binary.LittleEndian.Uint32(body); body = body[4:]; return x }
	for i := range b.obs[:s*o] {
		b.obs[i] = math.Float32frombits(next())
	}
	for i := range b.nextObs[:s*o] {
		b.nextObs[i] = math.Float32frombits(next())
	}
	for i := range b.actions[:s] {
		b.actions[i] = int32(next())
	}
	for i := range b.rewards[:s] {
		b.rewards[i] = math.Float32frombits(next())
	}
	for i := range b.terminated[:s] {
		b.terminated[i] = math.Float32frombits(next())
	}
	b.pos, b.size = int(pos), s
	return total, nil
}
