package formats

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// torchPickler writes protocol-2 pickles by hand, for crafted bad inputs.
type torchPickler struct{ b []byte }

func (p *torchPickler) op(s string) *torchPickler { p.b = append(p.b, s...); return p }

func (p *torchPickler) str(s string) *torchPickler {
	p.b = append(p.b, 'X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}

func (p *torchPickler) int(n int64) *torchPickler {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		p.b = append(p.b, 'J')
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(int32(n)))
		return p
	}
	p.b = append(p.b, 0x8a, 8)
	p.b = binary.LittleEndian.AppendUint64(p.b, uint64(n))
	return p
}

func (p *torchPickler) global(module, name string) *torchPickler {
	return p.op("c" + module + "\n" + name + "\n")
}

func (p *torchPickler) ints(v []int64) *torchPickler {
	p.op("(")
	for _, n := range v {
		p.int(n)
	}
	return p.op("t")
}

// tensorDictPickle is {name: _rebuild_tensor_v2(storage, offset, size,
// stride, False, OrderedDict())} with storage ('storage', torch.<storageType>,
// '0', 'cpu', numel).
func tensorDictPickle(name, storageType string, numel, offset int64, size, stride []int64) []byte {
	p := &torchPickler{}
	p.op("\x80\x02}(").str(name)
	p.global("torch._utils", "_rebuild_tensor_v2").op("(")
	p.op("(").str("storage").global("torch", storageType).str("0").str("cpu").int(numel).op("tQ")
	p.int(offset).ints(size).ints(stride).op("\x89")
	p.global("collections", "OrderedDict").op(")R")
	p.op("tR")
	return p.op("u.").b
}

type torchZipMember struct {
	name   string
	data   []byte
	method uint16
}

func craftTorchZip(t testing.TB, members ...torchZipMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// craftedTorch is a one-tensor zip-format file with the given pickle and
// storage bytes.
func craftedTorch(t testing.TB, pkl, storage []byte) []byte {
	return craftTorchZip(t,
		torchZipMember{name: "archive/data.pkl", data: pkl},
		torchZipMember{name: "archive/byteorder", data: []byte("little")},
		torchZipMember{name: "archive/data/0", data: storage},
		torchZipMember{name: "archive/version", data: []byte("3\n")})
}

func float32Bytes(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// rezip rewrites a zip archive, compressing the members whose names end
// with compressSuffix and leaving out those ending with dropSuffix.
func rezip(t testing.TB, data []byte, compressSuffix, dropSuffix string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var members []torchZipMember
	for _, f := range zr.File {
		if dropSuffix != "" && strings.HasSuffix(f.Name, dropSuffix) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
		m := torchZipMember{name: f.Name, data: b.Bytes(), method: zip.Store}
		if compressSuffix != "" && strings.HasSuffix(f.Name, compressSuffix) {
			m.method = zip.Deflate
		}
		members = append(members, m)
	}
	return craftTorchZip(t, members...)
}

// TestReadTorchDeflatedMembers: a .pt whose members were re-zipped with
// deflate (torch.load reads it) gives the same tensors as the stored file.
func TestReadTorchDeflatedMembers(t *testing.T) {
	dir := torchFixtures(t, "pytorch")
	stored, err := os.ReadFile(filepath.Join(dir, "cartpole_mlp_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadTorch(bytes.NewReader(stored), int64(len(stored)), "stored.pt")
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"data.pkl", "data/0", "byteorder"} {
		data := rezip(t, stored, suffix, "")
		got, err := ReadTorch(bytes.NewReader(data), int64(len(data)), "deflated.pt")
		if err != nil {
			t.Fatalf("deflated %q: %v", suffix, err)
		}
		if len(got.Tensors) != len(want.Tensors) || len(want.Tensors) == 0 {
			t.Fatalf("deflated %q: %d tensors, want %d", suffix, len(got.Tensors), len(want.Tensors))
		}
		for i, w := range want.Tensors {
			g := got.Tensors[i]
			if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) || !slices.Equal(g.Values, w.Values) {
				t.Fatalf("deflated %q: tensor %d %q %v differs from the stored file's %q %v", suffix, i, g.Name, g.Shape, w.Name, w.Shape)
			}
		}
	}
}

func TestReadTorchBadInputs(t *testing.T) {
	dir := torchFixtures(t, "pytorch")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stateDict := read("cartpole_mlp_state_dict.pt")
	legacy := read("cartpole_mlp_legacy.pt")
	four := float32Bytes(1, 2, 3, 4)
	with := func(b []byte, at int, v byte) []byte {
		c := bytes.Clone(b)
		c[at] = v
		return c
	}
	nested := &torchPickler{}
	nested.op("\x80\x02" + strings.Repeat("]", 150) + strings.Repeat("a", 149) + ".")

	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "empty file", nil},
		{"garbage", "not a PyTorch file", []byte("this is not a pickle, nor a zip archive")},
		{"zeros", "not a PyTorch file", make([]byte, 4096)},
		{"zip_magic_flipped", "not a PyTorch file", with(stateDict, 1, 'X')},
		{"zip_truncated_half", "zip archive", stateDict[:len(stateDict)/2]},
		{"zip_truncated_tail", "zip archive", stateDict[:len(stateDict)-10]},
		{"zip_missing_storage", "member cartpole_mlp_state_dict/data/0 is missing", rezip(t, stateDict, "", "data/0")},
		{"zip_without_pickle", "without a data.pkl", rezip(t, stateDict, "", "data.pkl")},
		{"torchscript", "TorchScript", read("cartpole_mlp_torchscript.pt")},
		{"legacy_wrong_magic", "magic number", with(legacy, 5, legacy[5]^0xff)},
		{"legacy_truncated_pickle", "truncated pickle", legacy[:300]},
		{"legacy_truncated_data", "truncated file", legacy[:len(legacy)-100]},
		{"storage_numel_larger_than_data", "holds 16 bytes, the pickle declares 1000 float32 elements",
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 1000, 0, []int64{4}, []int64{1}), four)},
		{"storage_numel_huge", "the pickle declares 1099511627776 float32 elements",
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 1<<40, 0, []int64{4}, []int64{1}), four)},
		{"view_past_storage", `tensor "w": view (offset 1, size [2 2], stride [2 1]) reaches element 4 of storage "0", which holds 4`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 1, []int64{2, 2}, []int64{2, 1}), four)},
		{"negative_stride", `tensor "w": stride [-1] has a negative entry`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 3, []int64{4}, []int64{-1}), four)},
		{"negative_size", `tensor "w": size [-4] has a negative dimension`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 0, []int64{-4}, []int64{1}), four)},
		{"rank_mismatch", `tensor "w": size [2 2] and stride [1] differ in rank`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 0, []int64{2, 2}, []int64{1}), four)},
		{"expand_bomb", `tensor "w": view of 1000000000000 elements`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 0, []int64{1000000, 1000000}, []int64{0, 0}), four)},
		{"size_overflow", `tensor "w": size [4611686018427387904 4] holds too many elements`,
			craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 0, []int64{1 << 62, 4}, []int64{0, 1}), four)},
		{"unknown_storage_type", "unsupported storage type torch.ComplexFloatStorage",
			craftedTorch(t, tensorDictPickle("w", "ComplexFloatStorage", 4, 0, []int64{4}, []int64{1}), four)},
		{"invalid_opcode", "invalid pickle opcode 0xff",
			craftedTorch(t, []byte("\x80\x02}\xff."), four)},
		{"bytes_longer_than_file", "declares 4294967295 bytes",
			craftedTorch(t, []byte("\x80\x02B\xff\xff\xff\xff."), four)},
		{"nested_too_deep", "nested deeper than 100",
			craftedTorch(t, nested.b, four)},
		{"self_containing_list", "nested deeper than 100 (or a cycle)",
			craftedTorch(t, []byte("\x80\x02]q\x00h\x00a."), four)},
		{"unhashable_key", "malformed pickle (decoder failed",
			craftedTorch(t, []byte("\x80\x02ccollections\nOrderedDict\n)RC\x01kNs."), four)},
		{"stack_underflow", "malformed pickle",
			craftedTorch(t, []byte("\x80\x02a."), four)},
	}
	if len(cases) < 15 {
		t.Fatalf("only %d bad inputs", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := "bad_" + c.name + ".pt"
			tf, err := ReadTorch(bytes.NewReader(c.data), int64(len(c.data)), name)
			if err == nil {
				t.Fatalf("read %d tensors, want an error containing %q", len(tf.Tensors), c.want)
			}
			if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to name %s and contain %q", err, name, c.want)
			}
		})
	}
	// The TorchScript refusal is a sentinel callers can test for.
	ts := read("cartpole_mlp_torchscript.pt")
	if _, err := ReadTorch(bytes.NewReader(ts), int64(len(ts)), "ts.pt"); !errors.Is(err, ErrTorchScript) {
		t.Errorf("TorchScript: error %v, want ErrTorchScript", err)
	}
}

// TestReadTorchCrafted checks that the crafted writer above makes files the
// reader accepts, so the bad cases fail for the reason they name.
func TestReadTorchCrafted(t *testing.T) {
	data := craftedTorch(t, tensorDictPickle("w", "FloatStorage", 4, 1, []int64{3}, []int64{1}), float32Bytes(1, 2, 3, 4))
	tf, err := ReadTorch(bytes.NewReader(data), int64(len(data)), "crafted.pt")
	if err != nil {
		t.Fatal(err)
	}
	if w := tf.Tensor("w"); w == nil || len(w.Values) != 3 || w.Values[0] != 2 || w.Values[2] != 4 {
		t.Fatalf("crafted tensor: %+v", tf.Tensors)
	}
}

// TestReadTorchBigEndian reads a crafted archive whose byteorder record says
// "big", as torch.save writes on big-endian machines.
func TestReadTorchBigEndian(t *testing.T) {
	var storage []byte
	for _, v := range []float32{1.5, -2, 3.25, 0} {
		storage = binary.BigEndian.AppendUint32(storage, math.Float32bits(v))
	}
	data := craftTorchZip(t,
		torchZipMember{name: "be/data.pkl", data: tensorDictPickle("w", "FloatStorage", 4, 0, []int64{2, 2}, []int64{1, 2})},
		torchZipMember{name: "be/byteorder", data: []byte("big")},
		torchZipMember{name: "be/data/0", data: storage})
	tf, err := ReadTorch(bytes.NewReader(data), int64(len(data)), "be.pt")
	if err != nil {
		t.Fatal(err)
	}
	// Transposed view of [1.5, -2, 3.25, 0]: rows (1.5, 3.25), (-2, 0).
	if w := tf.Tensor("w"); w == nil || !slices.Equal(w.Values, []float64{1.5, 3.25, -2, 0}) {
		t.Fatalf("big-endian tensor: %+v", tf.Tensors)
	}
}

func TestTorchToNetworkBadInputs(t *testing.T) {
	tf, err := LoadTorch(filepath.Join(torchFixtures(t, "pytorch"), "cartpole_mlp_state_dict.pt"))
	if err != nil {
		t.Fatal(err)
	}
	withValue := func(name string, v float64) *TorchFile {
		c := &TorchFile{Format: tf.Format}
		for _, x := range tf.Tensors {
			if x.Name == name {
				x.Values = append([]float64{}, x.Values...)
				x.Values[5] = v
			}
			c.Tensors = append(c.Tensors, x)
		}
		return c
	}
	cases := []struct {
		name string
		tf   *TorchFile
		opts ImportOptions
		want string
	}{
		{"nan_weight", withValue("fc2.weight", math.NaN()), ImportOptions{}, `tensor "fc2.weight": element 5 (of shape [16 16]) is NaN`},
		{"inf_bias", withValue("fc1.bias", math.Inf(-1)), ImportOptions{}, `tensor "fc1.bias": element 5 (of shape [16]) is -Inf`},
		{"float32_overflow", withValue("fc3.weight", 1e300), ImportOptions{}, `tensor "fc3.weight": element 5`},
		{"arch_not_numbers", tf, ImportOptions{Arch: "4-x-2"}, `size "x" is not a positive integer`},
		{"arch_activation", tf, ImportOptions{Arch: "4-16-16-2:swish"}, `unknown activation "swish"`},
		{"arch_one_size", tf, ImportOptions{Arch: "4"}, "want at least two sizes"},
		{"arch_mismatch", tf, ImportOptions{Arch: "4-32-2"}, "arch 4-32-2 does not match the tensors: the Linear layers (out-in) chain as 4-16-16-2 (fc1, fc2, fc3)"},
		{"layout", tf, ImportOptions{Layout: "row-major"}, `unknown layout "row-major"`},
		{"layout_in_out", tf, ImportOptions{Layout: LayoutInOut, Arch: "4-16-16-2"}, "arch 4-16-16-2 does not match"},
		{"prefix", tf, ImportOptions{Prefix: "target."}, `no tensor name starts with prefix "target."`},
		{"no_tensors", &TorchFile{}, ImportOptions{}, "holds no tensors"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := TorchToNetwork(c.tf, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// FuzzReadTorch feeds the reader mutations of every fixture: it must return
// a TorchFile or an error, never panic or hang. CI runs the seeds only.
func FuzzReadTorch(f *testing.F) {
	var seeds []string
	for _, sub := range []string{"pytorch", "policies", "imports", "spiking"} {
		seeds = append(seeds, torchFixtureFiles(f, sub)...)
	}
	// Stable-Baselines3 zips, and this package's import and DSQN test files.
	for _, pattern := range []string{filepath.Join(torchFixtures(f, "imports"), "sb3", "*.zip"), filepath.Join("testdata", "torch_*.pt"),
		filepath.Join("testdata", "imports", "*.pt"), filepath.Join("testdata", "imports", "*.zip"), filepath.Join("testdata", "dsqn", "*.pt")} {
		more, _ := filepath.Glob(pattern)
		seeds = append(seeds, more...)
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, sb3, err := ReadTorchOrSB3(bytes.NewReader(data), int64(len(data)), "fuzz.pt")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.pt") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, x := range tf.Tensors {
			n := 1
			for _, d := range x.Shape {
				n *= d
			}
			if n != len(x.Values) {
				t.Fatalf("tensor %q: shape %v but %d values", x.Name, x.Shape, len(x.Values))
			}
		}
		opts := ImportOptions{ObservationSize: 4}
		if sb3 != nil {
			sb3.ApplyTo(&opts)
		}
		for _, o := range []ImportOptions{opts, {Semantics: SemanticsDSQN}, {Head: "critic"}, {Arch: "4-64-2:tanh"}} {
			if imp, err := TorchToNetwork(tf, o); err == nil {
				x := make([]float32, imp.Network.InputSize())
				imp.Network.Forward(make([]float32, imp.Network.OutputSize()), x, imp.Network.NewWorkspace(1))
			}
		}
	})
}
