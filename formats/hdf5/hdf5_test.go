package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/internal/testfixtures"
)

func nirFixtures(t testing.TB) []string {
	files, err := filepath.Glob(testfixtures.Dir(t, "nir", "*.nir"))
	if err != nil || len(files) == 0 {
		t.Skipf("no NIR fixtures under %s", testfixtures.Dir(t, "nir"))
	}
	return files
}

// TestReadNIRFixtures reads every fixture and checks the NIR skeleton that
// every NIR file has: a version string and a NIRGraph whose edges name its
// nodes.
func TestReadNIRFixtures(t *testing.T) {
	for _, path := range nirFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			v := g.Datasets["version"]
			if v == nil || v.Kind != String || len(v.Strings) != 1 || v.Strings[0] == "" {
				t.Fatalf("version dataset: %+v", v)
			}
			node := g.Groups["node"]
			if node == nil || node.Datasets["type"] == nil || node.Datasets["type"].Strings[0] != "NIRGraph" {
				t.Fatal("no /node NIRGraph")
			}
			edges := node.Datasets["edges"]
			if edges == nil || len(edges.Shape) != 2 || edges.Shape[1] != 2 {
				t.Fatalf("edges: %+v", edges)
			}
			for _, name := range edges.Strings {
				if node.Groups["nodes"].Groups[name] == nil {
					t.Errorf("edge names node %q, which the file does not hold", name)
				}
			}
		})
	}
}

// TestRewriteMatchesH5dump reads each fixture, writes it again and asks
// libhdf5 (h5dump) to print both files: every value must print the same.
func TestRewriteMatchesH5dump(t *testing.T) {
	h5dump, err := exec.LookPath("h5dump")
	if err != nil {
		t.Skip("h5dump not installed (Debian package hdf5-tools)")
	}
	for _, path := range nirFixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "rewritten.h5")
			writeFile(t, out, g)
			want := dump(t, h5dump, path)
			got := dump(t, h5dump, out)
			if got != want {
				t.Fatalf("h5dump differs:\n--- fixture\n%.2000s\n--- ours\n%.2000s", want, got)
			}
		})
	}
}

func dump(t *testing.T, h5dump, path string) string {
	t.Helper()
	out, err := exec.Command(h5dump, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump %s: %v\n%s", path, err, out)
	}
	// The first line names the file.
	_, rest, _ := strings.Cut(string(out), "\n")
	return rest
}

func writeFile(t *testing.T, path string, g *Group) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, g); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleTree holds every kind the writer stores, awkward values included.
func sampleTree() *Group {
	root := NewGroup()
	root.Datasets["scalar_string"] = &Dataset{Kind: String, Strings: []string{"NIRGraph"}}
	root.Datasets["scalar_int"] = &Dataset{Kind: Int64, Int64: []int64{-9223372036854775808}}
	a := root.Group("a")
	a.Datasets["f32"] = &Dataset{Shape: []int{2, 3}, Kind: Float32,
		Float32: []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), math.Float32frombits(0x7fc00001), 1e-45, -3.5}}
	a.Datasets["f64"] = &Dataset{Shape: []int{4}, Kind: Float64,
		Float64: []float64{math.Pi, math.Float64frombits(0x7ff8000000000123), math.Inf(-1), 5e-324}}
	a.Datasets["deflated"] = &Dataset{Shape: []int{3, 2, 5}, Kind: Float32, Float32: make([]float32, 30), Deflate: 9}
	for i := range a.Datasets["deflated"].Float32 {
		a.Datasets["deflated"].Float32[i] = float32(i) / 7
	}
	a.Datasets["deflated_int"] = &Dataset{Shape: []int{5}, Kind: Int64, Int64: []int64{1, -2, 3, -4, 5}, Deflate: 1}
	a.Datasets["strings"] = &Dataset{Shape: []int{2, 2}, Kind: String, Strings: []string{"", "ünïcode ✓", "a\x00b"[:1], strings.Repeat("x", 5000)}}
	a.Datasets["empty"] = &Dataset{Shape: []int{0, 3}, Kind: Float64, Float64: []float64{}}
	big := root.Group("many")
	for i := range 40 { // several symbol table nodes
		big.Datasets[fmt.Sprintf("d%02d", i)] = &Dataset{Kind: Int64, Int64: []int64{int64(i)}}
		big.Group(fmt.Sprintf("g%02d", i))
	}
	return root
}

// equalBits compares trees with floats by their bits (NaN payloads, -0).
func equalBits(a, b *Group) bool {
	if len(a.Groups) != len(b.Groups) || len(a.Datasets) != len(b.Datasets) {
		return false
	}
	for n, g := range a.Groups {
		if b.Groups[n] == nil || !equalBits(g, b.Groups[n]) {
			return false
		}
	}
	for n, d := range a.Datasets {
		e := b.Datasets[n]
		if e == nil || d.Kind != e.Kind || d.Len() != e.Len() || len(d.Shape) != len(e.Shape) || d.Deflate != e.Deflate {
			return false
		}
		if !reflect.DeepEqual(d.Shape, e.Shape) && len(d.Shape) > 0 {
			return false
		}
		for i := range d.Float32 {
			if math.Float32bits(d.Float32[i]) != math.Float32bits(e.Float32[i]) {
				return false
			}
		}
		for i := range d.Float64 {
			if math.Float64bits(d.Float64[i]) != math.Float64bits(e.Float64[i]) {
				return false
			}
		}
		if !slicesEqual(d.Int64, e.Int64) || !slicesEqual(d.Strings, e.Strings) {
			return false
		}
	}
	return true
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriteReadBitIdentical(t *testing.T) {
	tree := sampleTree()
	var first bytes.Buffer
	if err := Write(&first, tree); err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(first.Bytes()), int64(first.Len()), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalBits(tree, back) {
		t.Fatal("the tree read back differs from the tree written")
	}
	var second bytes.Buffer
	if err := Write(&second, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatal("writing the tree read back gives other bytes")
	}
}

// TestManyStrings crosses the 65535-object limit of one global heap
// collection.
func TestManyStrings(t *testing.T) {
	root := NewGroup()
	d := &Dataset{Shape: []int{70000}, Kind: String, Strings: make([]string, 70000)}
	for i := range d.Strings {
		d.Strings[i] = fmt.Sprint(i)
	}
	root.Datasets["s"] = d
	var b bytes.Buffer
	if err := Write(&b, root); err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !equalBits(root, back) {
		t.Fatal("strings differ after a round trip")
	}
}

func TestH5pyReadsOurFile(t *testing.T) {
	if exec.Command("/usr/bin/python3", "-c", "import h5py").Run() != nil {
		t.Skip("/usr/bin/python3 has no h5py (Debian package python3-h5py)")
	}
	path := filepath.Join(t.TempDir(), "ours.h5")
	tree := sampleTree()
	writeFile(t, path, tree)
	// h5py prints every dataset as repr of its values, floats by their bits.
	script := `
import h5py, sys, numpy as np
def show(name, obj):
    if isinstance(obj, h5py.Dataset):
        v = obj[()]
        if isinstance(v, bytes):
            v = np.array(v.decode('utf-8'), dtype=object)
        a = np.asarray(v)
        if a.dtype.kind == 'f':
            bits = a.view(np.uint32 if a.dtype.itemsize == 4 else np.uint64).ravel().tolist()
            print(name, a.dtype.str, list(a.shape), bits)
        elif a.dtype.kind == 'O':
            print(name, 'str', list(a.shape), [x.decode('utf-8') if isinstance(x, bytes) else x for x in a.ravel().tolist()])
        else:
            print(name, a.dtype.str, list(a.shape), a.ravel().tolist())
with h5py.File(sys.argv[1], 'r') as f:
    f.visititems(show)
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, rest, _ := strings.Cut(l, " ")
		lines[name] = rest
	}
	var check func(prefix string, g *Group)
	check = func(prefix string, g *Group) {
		for n, sub := range g.Groups {
			check(prefix+n+"/", sub)
		}
		for n, d := range g.Datasets {
			got, ok := lines[prefix+n]
			if !ok {
				t.Errorf("h5py does not list %s%s", prefix, n)
				continue
			}
			shape := fmt.Sprint(d.Shape)
			if d.Shape == nil {
				shape = "[]"
			}
			shape = strings.ReplaceAll(shape, " ", ", ")
			var want string
			switch d.Kind {
			case Float32:
				bits := make([]string, len(d.Float32))
				for i, v := range d.Float32 {
					bits[i] = fmt.Sprint(math.Float32bits(v))
				}
				want = "<f4 " + shape + " [" + strings.Join(bits, ", ") + "]"
			case Float64:
				bits := make([]string, len(d.Float64))
				for i, v := range d.Float64 {
					bits[i] = fmt.Sprint(math.Float64bits(v))
				}
				want = "<f8 " + shape + " [" + strings.Join(bits, ", ") + "]"
			case Int64:
				want = "<i8 " + shape + " " + strings.ReplaceAll(fmt.Sprint(d.Int64), " ", ", ")
			case String:
				continue // compared below through Python's repr
			}
			if got != want {
				t.Errorf("%s%s: h5py reads %s, we wrote %s", prefix, n, got, want)
			}
		}
	}
	check("", tree)
	if got := lines["a/strings"]; !strings.Contains(got, "'ünïcode ✓'") || !strings.Contains(got, "'x"+strings.Repeat("x", 10)) {
		t.Errorf("h5py reads a/strings as %.200s", got)
	}
	if got := lines["scalar_string"]; got != "str [] ['NIRGraph']" {
		t.Errorf("h5py reads scalar_string as %q", got)
	}
}

// TestChunkedByH5py reads a file written by h5py with gzip, shuffle and
// fletcher32 over several chunks (edge chunks partly outside the shape),
// big-endian floats, int32 and fixed-length strings; the expected values
// are the file's own arithmetic (testdata/make_chunked.py).
func TestChunkedByH5py(t *testing.T) {
	g, err := ReadFile(filepath.Join("testdata", "chunked_h5py.h5"))
	if err != nil {
		t.Fatal(err)
	}
	grid := g.Datasets["grid"] // float32 (7, 5), value 10*i + j, chunks (3, 2), gzip + shuffle
	if grid == nil || !reflect.DeepEqual(grid.Shape, []int{7, 5}) || grid.Kind != Float32 || grid.Deflate != 4 {
		t.Fatalf("grid: %+v", grid)
	}
	for i := 0; i < 7; i++ {
		for j := 0; j < 5; j++ {
			if v := grid.Float32[i*5+j]; v != float32(10*i+j) {
				t.Fatalf("grid[%d,%d] = %v, want %d", i, j, v, 10*i+j)
			}
		}
	}
	be := g.Datasets["big_endian"] // >f8 (6,), value i/3, chunks (4,), fletcher32
	for i, v := range be.Float64 {
		if v != float64(i)/3 {
			t.Fatalf("big_endian[%d] = %v", i, v)
		}
	}
	ints := g.Datasets["int32"] // <i4 (9,), value -i*1000, chunks (2,), gzip
	for i, v := range ints.Int64 {
		if v != int64(-i*1000) {
			t.Fatalf("int32[%d] = %v", i, v)
		}
	}
	if s := g.Datasets["fixed"]; !reflect.DeepEqual(s.Strings, []string{"ab", "cde", ""}) {
		t.Fatalf("fixed strings %q", s.Strings)
	}
	if u := g.Datasets["compound"]; u == nil || u.Kind != Unsupported || u.Reason == "" {
		t.Fatalf("compound dataset: %+v, want Unsupported with a reason", u)
	}
}

func TestBadFiles(t *testing.T) {
	var good bytes.Buffer
	if err := Write(&good, sampleTree()); err != nil {
		t.Fatal(err)
	}
	data := good.Bytes()
	if _, err := Read(bytes.NewReader([]byte("not hdf5 at all")), 15, ReadOptions{}); !errors.Is(err, ErrNotHDF5) {
		t.Errorf("foreign bytes: %v, want ErrNotHDF5", err)
	}
	for _, n := range []int{96, 200, len(data) / 2, len(data) - 1} {
		if _, err := Read(bytes.NewReader(data[:n]), int64(n), ReadOptions{}); err == nil {
			t.Errorf("file cut to %d of %d bytes read without error", n, len(data))
		}
	}
	if _, err := Read(bytes.NewReader(data), int64(len(data)), ReadOptions{MaxBytes: 100}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("a 100-byte read limit: %v, want a limit error", err)
	}
}

// TestGroupCycle points a group's member back at the root group.
func TestGroupCycle(t *testing.T) {
	root := NewGroup()
	root.Group("child")
	var b bytes.Buffer
	if err := Write(&b, root); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	rootHeader := binary.LittleEndian.Uint64(data[superblockSize-32:])
	snod := bytes.LastIndex(data, []byte("SNOD")) // the root's node (written last)
	binary.LittleEndian.PutUint64(data[snod+8+8:], rootHeader)
	_, err := Read(bytes.NewReader(data), int64(len(data)), ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("err = %v, want a cycle error", err)
	}
}

func TestWriteRefusesBadTrees(t *testing.T) {
	for name, g := range map[string]*Group{
		"shape mismatch": {Datasets: map[string]*Dataset{"x": {Shape: []int{3}, Kind: Float32, Float32: []float32{1}}}},
		"slash in name":  {Datasets: map[string]*Dataset{"a/b": {Kind: Int64, Int64: []int64{1}}}},
		"unsupported":    {Datasets: map[string]*Dataset{"x": {Kind: Unsupported}}},
		"group and data": {Groups: map[string]*Group{"x": NewGroup()}, Datasets: map[string]*Dataset{"x": {Kind: Int64, Int64: []int64{1}}}},
	} {
		if err := Write(&bytes.Buffer{}, g); err == nil {
			t.Errorf("%s: written without error", name)
		}
	}
}
