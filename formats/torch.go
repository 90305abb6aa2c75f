package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// ErrTorchScript is returned (wrapped) for TorchScript archives, which hold
// compiled code rather than a torch.save pickle.
var ErrTorchScript = errors.New("TorchScript archive (torch.jit.save), not a torch.save file: " +
	"save the weights instead with torch.save(model.state_dict(), path)")

// TorchFile is the content of a .pt file: its tensors and plain scalars, in
// the order a depth-first walk of the pickle meets them.
type TorchFile struct {
	// Format is "zip" (torch >= 1.6) or "legacy".
	Format  string
	Tensors []Tensor
	// Scalars are the numbers, booleans and strings found beside the
	// tensors (e.g. a checkpoint's "epoch", optimizer hyper-parameters).
	Scalars []TorchScalar
	// Modules lists the nn.Module objects of a whole-module pickle in the
	// pickle's depth-first order (a Sequential's children in forward order),
	// named like the state_dict ("" for the root).
	Modules []TorchModule
}

// TorchModule is one pickled nn.Module: its state_dict-style name and its
// class, e.g. "torch.nn.modules.activation.Tanh".
type TorchModule struct {
	Name  string
	Class string
}

// TorchScalar is a plain value of the pickle, named like a tensor.
type TorchScalar struct {
	Path  []string
	Name  string
	Value any // int, int64 (or *big.Int), float64, bool or string
}

// Tensor is one tensor of a .pt file, materialised in logical row-major
// order whatever its strides.
type Tensor struct {
	// Path holds the keys from the top of the pickle down to the tensor;
	// list and tuple indices are written as decimal strings, object
	// attributes by their names (e.g. _modules, fc1, _parameters, weight).
	Path []string
	// Name is the state_dict-style name: Path joined by ".", leaving out the
	// _modules/_parameters/_buffers levels of pickled nn.Module objects.
	Name string
	// DType is the torch dtype without prefix: float32, float64, float16,
	// bfloat16, int64, int32, int16, int8, uint8 or bool.
	DType string
	// Shape, Stride (in elements) and StorageOffset are as torch reports them.
	Shape         []int
	Stride        []int
	StorageOffset int
	// StorageKey names the storage the tensor views; tensors that share a
	// storage have the same key. StorageNumel is that storage's length.
	StorageKey   string
	StorageNumel int
	// RequiresGrad is the flag saved with the tensor; Parameter is true for
	// nn.Parameter objects (whole-module pickles).
	RequiresGrad bool
	Parameter    bool
	// Values are the elements, row-major, as float64 (exact for every dtype
	// except int64 beyond 2^53; see Ints).
	Values []float64
	// Ints holds the exact elements of int64 tensors (nil for other dtypes).
	Ints []int64
}

// Numel is the number of elements.
func (t *Tensor) Numel() int { return len(t.Values) }

// Float32 returns the values converted to float32 (exact for float32,
// float16 and bfloat16 tensors).
func (t *Tensor) Float32() []float32 {
	out := make([]float32, len(t.Values))
	for i, v := range t.Values {
		out[i] = float32(v)
	}
	return out
}

// Tensor returns the tensor with the given Name, or nil.
func (tf *TorchFile) Tensor(name string) *Tensor {
	for i := range tf.Tensors {
		if tf.Tensors[i].Name == name {
			return &tf.Tensors[i]
		}
	}
	return nil
}

// LoadTorch reads a .pt file written by torch.save.
func LoadTorch(path string) (*TorchFile, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadTorch(f, size, path)
}

// ReadTorch reads a torch.save file of size bytes from r; name is used in
// errors. It never panics: a malformed pickle that trips the decoder is
// reported as an error naming the file.
func ReadTorch(r io.ReaderAt, size int64, name string) (tf *TorchFile, err error) {
	defer func() {
		if p := recover(); p != nil {
			tf, err = nil, fmt.Errorf("formats: %s: malformed .pt file (decoder failed: %v)", name, p)
		}
	}()
	tf, err = readTorch(r, size)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", name, err)
	}
	return tf, nil
}

var (
	torchZipMagic    = []byte("PK\x03\x04")
	torchEmptyZip    = []byte("PK\x05\x06")
	torchLegacyMagic = mustBig("1950a86a20f9469cfc6c") // torch.serialization.MAGIC_NUMBER
)

func mustBig(hex string) *big.Int {
	v, ok := new(big.Int).SetString(hex, 16)
	if !ok {
		panic("formats: bad constant " + hex)
	}
	return v
}

func readTorch(r io.ReaderAt, size int64) (*TorchFile, error) {
	if size <= 0 {
		return nil, errors.New("empty file, not a PyTorch file")
	}
	head := make([]byte, min(size, 512))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, torchZipMagic) || bytes.HasPrefix(head, torchEmptyZip):
		return readTorchZip(r, size)
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		return readTorchLegacy(r, size)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return nil, errors.New("tar archive: the tar format of torch < 0.4 is not supported; re-save with a current torch.save")
	}
	return nil, fmt.Errorf("not a PyTorch file: starts with % x, want a zip archive (PK) or a pickle (80 02)", head[:min(len(head), 8)])
}

// readTorchZip reads the format of torch >= 1.6: a zip of stored members
// <dir>/data.pkl, <dir>/data/<key>, <dir>/byteorder, <dir>/version.
func readTorchZip(r io.ReaderAt, size int64) (*TorchFile, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("zip archive: %w", err)
	}
	members := make(map[string]*zip.File, len(zr.File))
	prefix, found := "", false
	for _, f := range zr.File {
		members[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 || f.Name == "data.pkl" {
			if !found {
				prefix, found = strings.TrimSuffix(f.Name, "data.pkl"), true
			}
		}
	}
	for _, f := range zr.File {
		rest, ok := strings.CutPrefix(f.Name, prefix)
		if ok && (strings.HasPrefix(rest, "code/") || rest == "constants.pkl") {
			return nil, ErrTorchScript
		}
	}
	if !found {
		return nil, errors.New("zip archive without a data.pkl member: not a torch.save file")
	}
	littleEndian := true
	if f := members[prefix+"byteorder"]; f != nil {
		b, err := readTorchMember(f, size, 16)
		if err != nil {
			return nil, err
		}
		switch string(b) {
		case "little":
		case "big":
			littleEndian = false
		default:
			return nil, fmt.Errorf("member %s: byte order %q, want little or big", f.Name, b)
		}
	}
	pkl, err := readTorchMember(members[prefix+"data.pkl"], size, int64(min(members[prefix+"data.pkl"].UncompressedSize64, math.MaxInt64)))
	if err != nil {
		return nil, err
	}
	storages := newTorchStorages()
	root, _, err := unpickleTorch(pkl, "data.pkl", storages.loadZip)
	if err != nil {
		return nil, err
	}
	for _, key := range storages.order {
		s := storages.byKey[key]
		f := members[prefix+"data/"+key]
		if f == nil {
			return nil, fmt.Errorf("storage %q: member %sdata/%s is missing", key, prefix, key)
		}
		want := uint64(s.numel) * uint64(s.dtype.size)
		if f.UncompressedSize64 < want {
			return nil, fmt.Errorf("storage %q: member %s holds %d bytes, the pickle declares %d %s elements (%d bytes)",
				key, f.Name, f.UncompressedSize64, s.numel, s.dtype.name, want)
		}
		raw, err := readTorchMember(f, size, int64(want))
		if err != nil {
			return nil, err
		}
		s.raw, s.littleEndian = raw, littleEndian
	}
	return walkTorch(root, "zip", size)
}

// readTorchMember reads up to limit bytes of a member, after checking its
// declared size against the archive's. torch.save writes stored members;
// deflated ones (a file re-zipped by other tools, which torch.load also
// reads) are inflated within the read budget.
func readTorchMember(f *zip.File, archiveSize, limit int64) ([]byte, error) {
	switch f.Method {
	case zip.Store:
		if f.UncompressedSize64 > uint64(archiveSize) || f.CompressedSize64 != f.UncompressedSize64 {
			return nil, fmt.Errorf("member %s declares %d bytes (%d stored) in a %d-byte archive: truncated or corrupt",
				f.Name, f.UncompressedSize64, f.CompressedSize64, archiveSize)
		}
	case zip.Deflate:
		if f.CompressedSize64 > uint64(archiveSize) || f.UncompressedSize64/maxDeflateRatio > f.CompressedSize64 {
			return nil, fmt.Errorf("member %s declares %d bytes from %d compressed bytes in a %d-byte archive: truncated or corrupt",
				f.Name, f.UncompressedSize64, f.CompressedSize64, archiveSize)
		}
		if err := checkInflation(f.Name, f.CompressedSize64, f.UncompressedSize64); err != nil {
			return nil, err
		}
		if err := newBudget().reserve(int64(min(f.UncompressedSize64, uint64(limit))), "member "+f.Name); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("member %s uses zip method %d; want stored (as torch.save writes) or deflated", f.Name, f.Method)
	}
	n := min(int64(f.UncompressedSize64), limit)
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("member %s: %w", f.Name, err)
	}
	defer rc.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("member %s: %w (truncated file?)", f.Name, err)
	}
	if n == int64(f.UncompressedSize64) {
		// Reading to the end makes archive/zip verify the CRC-32.
		if _, err := io.Copy(io.Discard, rc); err != nil {
			return nil, fmt.Errorf("member %s: %w", f.Name, err)
		}
	}
	return buf, nil
}

// maxLegacyBytes bounds the legacy files we read into memory at once.
const maxLegacyBytes = 1 << 34

// readTorchLegacy reads the format of torch < 1.6 (and
// _use_new_zipfile_serialization=False): pickles of the magic number, the
// protocol version, the system info and the object, the list of storage
// keys, then each storage as an int64 element count and its raw bytes.
func readTorchLegacy(r io.ReaderAt, size int64) (*TorchFile, error) {
	if size > maxLegacyBytes {
		return nil, fmt.Errorf("legacy-format file of %d bytes is larger than the %d supported", size, int64(maxLegacyBytes))
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, err
	}
	pos := 0
	next := func(what string, load func(any) (any, error)) (any, error) {
		v, n, err := unpickleTorch(data[pos:], what, load)
		pos += n
		return v, err
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(torchLegacyMagic) != 0 {
		return nil, fmt.Errorf("legacy format: magic number %v, want 0x%x: not a torch.save file", magic, torchLegacyMagic)
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if p, ok := proto.(int); !ok || p != 1001 {
		return nil, fmt.Errorf("legacy format: protocol version %v, want 1001", proto)
	}
	if _, err := next("system info", nil); err != nil {
		return nil, err
	}
	storages := newTorchStorages()
	root, err := next("object", storages.loadLegacy)
	if err != nil {
		return nil, err
	}
	keysObj, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("legacy format: storage key list is %T, want a list", keysObj)
	}
	for i, k := range *keys {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("legacy format: storage key %d is %T, want a string", i, k)
		}
		s := storages.byKey[key]
		if s == nil || s.base != nil {
			return nil, fmt.Errorf("storage %q: listed in the data section but not used by the pickle", key)
		}
		if len(data)-pos < 8 {
			return nil, fmt.Errorf("storage %q: file ends before its element count (truncated file)", key)
		}
		numel := int64(leUint64(data[pos:]))
		pos += 8
		if numel != int64(s.numel) {
			return nil, fmt.Errorf("storage %q: data section holds %d elements, the pickle declares %d", key, numel, s.numel)
		}
		nbytes := uint64(s.numel) * uint64(s.dtype.size)
		if nbytes > uint64(len(data)-pos) {
			return nil, fmt.Errorf("storage %q: %d %s elements need %d bytes, only %d left in the file (truncated file)",
				key, s.numel, s.dtype.name, nbytes, len(data)-pos)
		}
		s.raw, s.littleEndian = data[pos:pos+int(nbytes)], true
		pos += int(nbytes)
	}
	for _, key := range storages.order {
		if s := storages.byKey[key]; s.base == nil && s.raw == nil {
			return nil, fmt.Errorf("storage %q: used by the pickle but missing from the data section", key)
		}
	}
	return walkTorch(root, "legacy", size)
}

func leUint64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// torchStorages collects the storages the pickle refers to, by key.
type torchStorages struct {
	byKey map[string]*torchStorage
	order []string
}

func newTorchStorages() *torchStorages {
	return &torchStorages{byKey: make(map[string]*torchStorage)}
}

// storageRecord checks a persistent id ('storage', type, key, location,
// numel, ...) and returns its parts.
func storageRecord(pid any, minLen int) (dt torchDType, key string, numel int, rest []any, err error) {
	tuple, ok := pid.(*types.Tuple)
	if !ok || tuple.Len() < 1 {
		return dt, "", 0, nil, fmt.Errorf("persistent id %T, want a tuple ('storage', ...)", pid)
	}
	items := []any(*tuple)
	if tag, _ := items[0].(string); tag != "storage" {
		return dt, "", 0, nil, fmt.Errorf("persistent id of kind %v, want 'storage'", items[0])
	}
	if len(items) < minLen {
		return dt, "", 0, nil, fmt.Errorf("storage persistent id has %d fields, want %d", len(items), minLen)
	}
	switch st := items[1].(type) {
	case *torchStorageType:
		dt = st.dtype
	case *torchDTypeObject:
		dt = st.dtype
	case *pyClass:
		return dt, "", 0, nil, fmt.Errorf("unsupported storage type %s.%s", st.module, st.name)
	default:
		return dt, "", 0, nil, fmt.Errorf("storage type is %T, want a torch storage class", items[1])
	}
	switch k := items[2].(type) {
	case string:
		key = k
	case int:
		key = fmt.Sprint(k)
	default:
		return dt, "", 0, nil, fmt.Errorf("storage key is %T, want a string", items[2])
	}
	n, ok := items[4].(int)
	if !ok || n < 0 || n > math.MaxInt64/16 {
		return dt, "", 0, nil, fmt.Errorf("storage %q: element count %v, want a non-negative integer", key, items[4])
	}
	return dt, key, n, items[5:], nil
}

// get returns the storage under key, creating it; a key reused with another
// dtype or size is an error.
func (s *torchStorages) get(dt torchDType, key string, numel int) (*torchStorage, error) {
	if old := s.byKey[key]; old != nil {
		if old.dtype.name != dt.name || old.numel != numel {
			return nil, fmt.Errorf("storage %q: declared as %d %s elements and as %d %s elements",
				key, old.numel, old.dtype.name, numel, dt.name)
		}
		return old, nil
	}
	st := &torchStorage{key: key, dtype: dt, numel: numel}
	s.byKey[key] = st
	s.order = append(s.order, key)
	return st, nil
}

func (s *torchStorages) loadZip(pid any) (any, error) {
	dt, key, numel, _, err := storageRecord(pid, 5)
	if err != nil {
		return nil, err
	}
	return s.get(dt, key, numel)
}

// loadLegacy also accepts the legacy view form: the sixth field is None or
// (view_key, offset, view_size), a window of the root storage.
func (s *torchStorages) loadLegacy(pid any) (any, error) {
	if tuple, ok := pid.(*types.Tuple); ok && tuple.Len() == 4 {
		if tag, _ := tuple.Get(0).(string); tag == "module" {
			return tuple.Get(1), nil // the class of a pickled module
		}
	}
	dt, key, numel, rest, err := storageRecord(pid, 6)
	if err != nil {
		return nil, err
	}
	root, err := s.get(dt, key, numel)
	if err != nil {
		return nil, err
	}
	if rest[0] == nil {
		return root, nil
	}
	view, ok := rest[0].(*types.Tuple)
	if !ok || view.Len() != 3 {
		return nil, fmt.Errorf("storage %q: view metadata %v, want (key, offset, size)", key, rest[0])
	}
	viewKey, ok1 := view.Get(0).(string)
	offset, ok2 := view.Get(1).(int)
	viewSize, ok3 := view.Get(2).(int)
	if !ok1 || !ok2 || !ok3 || offset < 0 || viewSize < 0 || offset > numel || viewSize > numel-offset {
		return nil, fmt.Errorf("storage %q: view %v does not fit its %d elements", key, rest[0], numel)
	}
	if old := s.byKey[viewKey]; old != nil {
		if old.base != root || old.offset != offset || old.numel != viewSize {
			return nil, fmt.Errorf("storage view %q: declared twice differently", viewKey)
		}
		return old, nil
	}
	v := &torchStorage{key: viewKey, dtype: dt, numel: viewSize, base: root, offset: offset}
	s.byKey[viewKey] = v
	s.order = append(s.order, viewKey)
	return v, nil
}
