package formats

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// npzFixturesRoot returns $SPIKEBRIDGE_FIXTURES or ../shared/fixtures
// relative to the directory holding go.mod.
func npzFixturesRoot(t testing.TB) string {
	return testfixtures.Dir(t)
}

func sum(values []float64) float64 {
	total := 0.0
	for _, v := range values {
		total += v
	}
	return total
}

// TestReadNPZFixtures checks the fixture archives against figures numpy
// printed for them (dtype, shape, sum in float64, first values).
func TestReadNPZFixtures(t *testing.T) {
	root := npzFixturesRoot(t)
	type want struct {
		dtype string
		shape []int
		sum   float64
		first []float64
	}
	for file, arrays := range map[string]map[string]want{
		"policies/torch_dqn_cartpole_seed1_expected.npz": {
			"states":      {"<f4", []int{2500, 4}, 275.02390959139484, []float64{-0.006693060509860516, 0.16016235947608948}},
			"q":           {"<f4", []int{2500, 2}, 251278.8542971909, []float64{58.28558349609375, 58.33662033081055}},
			"actions":     {"<i8", []int{2500}, 1195, []float64{1, 1}},
			"init_states": {"<f8", []int{100, 4}, -0.6476477638897602, []float64{-0.027266397753283034, -0.018324166029024716}},
			"returns":     {"<f8", []int{100}, 50000, []float64{500, 500}},
		},
		"snn/brian2_ff_seed1.npz": {
			"W0":      {"<f8", []int{4, 16}, -3.5209593716012684, []float64{0.25918814404858953, 0.6162136076258687}},
			"X":       {"<f8", []int{1000, 4}, 1999.697097757429, []float64{0.2616121342493164, 0.2984911434141233}},
			"steps":   {"<i8", []int{}, 100, []float64{100}},
			"counts":  {"<f8", []int{1000, 2}, 30276, []float64{10, 49}},
			"v_final": {"<f8", []int{1000, 2}, -2712.2460975341064, []float64{0.582284377153221, 1.2309905023414849}},
		},
	} {
		got, err := ReadNPZ(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range arrays {
			a := got[name]
			if a == nil {
				t.Fatalf("%s: no array %q", file, name)
			}
			if a.DType != w.dtype || !slices.Equal(a.Shape, w.shape) {
				t.Errorf("%s:%s: dtype %s shape %v, want %s %v", file, name, a.DType, a.Shape, w.dtype, w.shape)
			}
			// Summed in the same order as numpy's pairwise sum only up to
			// rounding, so compare to a relative 1e-12.
			if s := sum(a.Data); math.Abs(s-w.sum) > 1e-12*math.Max(1, math.Abs(w.sum)) {
				t.Errorf("%s:%s: sum %v, want %v", file, name, s, w.sum)
			}
			if !slices.Equal(a.Data[:len(w.first)], w.first) {
				t.Errorf("%s:%s: first values %v, want %v", file, name, a.Data[:len(w.first)], w.first)
			}
		}
	}
	// The fixture's actions are argmax of its q: a check of both arrays.
	got, _ := ReadNPZ(filepath.Join(root, "policies/torch_dqn_cartpole_seed1_expected.npz"))
	q, actions := got["q"].Data, got["actions"].Data
	for i, a := range actions {
		best := 0.0
		if q[2*i+1] > q[2*i] {
			best = 1
		}
		if a != best {
			t.Fatalf("state %d: action %v, but argmax q = %v (q %v)", i, a, best, q[2*i:2*i+2])
		}
	}
}

// TestReadNPZCompressedDTypes reads numpy.savez_compressed output (deflated
// members) holding every supported dtype; values are the closed forms of
// testdata/make_npz.py.
func TestReadNPZCompressedDTypes(t *testing.T) {
	got, err := ReadNPZ(filepath.Join("testdata", "dtypes_compressed.npz"))
	if err != nil {
		t.Fatal(err)
	}
	base := []float64{-0.5, -0.25, 0, 0.25, 0.5, 0.75}
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		name  string
		dtype string
		shape []int
		data  []float64
	}{
		{"f4", "<f4", []int{2, 3}, base},
		{"f8_big", ">f8", []int{2, 3}, base},
		{"fortran", "<f8", []int{2, 3}, base},
		{"f2", "<f2", []int{5}, []float64{1, -2, 65504, math.Ldexp(1, -24), negZero}},
		{"i8", "<i8", []int{3}, []float64{-3, 0, 1 << 40}},
		{"i4", "<i4", []int{2}, []float64{-7, 7}},
		{"u1", "|u1", []int{2}, []float64{0, 255}},
		{"b1", "|b1", []int{3}, []float64{1, 0, 1}},
		{"scalar", "<f8", []int{}, []float64{2.5}},
		{"empty", "<f4", []int{0, 4}, []float64{}},
	} {
		a := got[tc.name]
		if a == nil {
			t.Fatalf("no array %q", tc.name)
		}
		if a.DType != tc.dtype || !slices.Equal(a.Shape, tc.shape) || !slices.Equal(a.Data, tc.data) {
			t.Errorf("%s: got %s %v %v, want %s %v %v", tc.name, a.DType, a.Shape, a.Data, tc.dtype, tc.shape, tc.data)
		}
		if tc.name == "f2" && !math.Signbit(a.Data[4]) {
			t.Errorf("f2: -0 lost its sign")
		}
	}
	if big := got["big"]; big == nil || big.Len() != 15000 || sum(big.Data) != 15000 {
		t.Errorf("big: %v", big.Shape)
	}
}

func TestNPZRoundTrip(t *testing.T) {
	states := []float32{0.1, -0.2, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32, 3, 4, 5}
	arrays := []*Array{
		NewFloat32Array("states", []int{2, 4}, states),
		NewFloat64Array("init_states", []int{1, 3}, []float64{1.0 / 3, -2e-300, 7}),
		NewInt64Array("actions", []int{2}, []int{1, 0}),
		{Name: "flags", Shape: []int{3}, DType: "|b1", Data: []float64{1, 0, 1}},
		NewFloat64Array("steps", nil, []float64{100}),
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "data.npz")
	if err := WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if err := WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Fatal("the same arrays gave different npz bytes")
	}
	got, err := LoadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(arrays) {
		t.Fatalf("read %d arrays, wrote %d", len(got), len(arrays))
	}
	for i, a := range got {
		w := arrays[i]
		if a.Name != w.Name || a.DType != w.DType || a.Len() != w.Len() || len(a.Shape) != len(w.Shape) {
			t.Fatalf("array %d: got %s %s %v, want %s %s %v", i, a.Name, a.DType, a.Shape, w.Name, w.DType, w.Shape)
		}
		for j := range a.Data {
			if math.Float64bits(a.Data[j]) != math.Float64bits(w.Data[j]) {
				t.Fatalf("%s[%d] = %v, want %v", a.Name, j, a.Data[j], w.Data[j])
			}
		}
	}
	assertBitIdentical(t, "states", got[0].Float32s(), states)
	assertOnlyFiles(t, dir, "data.npz")

	npyPath := filepath.Join(dir, "q.npy")
	if err := WriteNPY(npyPath, arrays[0]); err != nil {
		t.Fatal(err)
	}
	one, err := ReadNPY(npyPath)
	if err != nil {
		t.Fatal(err)
	}
	assertBitIdentical(t, "q.npy", one.Float32s(), states)
	raw, _ := os.ReadFile(npyPath)
	if dataStart := 10 + int(binary.LittleEndian.Uint16(raw[8:])); dataStart%64 != 0 {
		t.Errorf("data starts at byte %d, want a multiple of 64 as numpy writes", dataStart)
	}
}

func TestWriteNPZRefusesBadArrays(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.npz")
	for _, tc := range []struct {
		arrays []*Array
		want   string
	}{
		{[]*Array{NewFloat32Array("q", []int{2, 2}, []float32{1, 2, 3})}, `array "q": shape [2 2] holds 4 values, but the data has 3`},
		{[]*Array{NewFloat32Array("q", []int{1}, []float32{1}), NewFloat32Array("q", []int{1}, []float32{1})}, `array "q" given twice`},
		{[]*Array{{Name: "z", Shape: []int{1}, DType: "<c16", Data: []float64{1}}}, `dtype "<c16" not supported`},
		{[]*Array{NewFloat32Array("", []int{1}, []float32{1})}, "has no name"},
	} {
		err := WriteNPZ(path, tc.arrays)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "out.npz") {
			t.Errorf("got %v, want an error naming out.npz and containing %q", err, tc.want)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused write left %s behind", path)
	}
}

func TestLoadArraySpec(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.npz")
	if err := WriteNPZ(path, []*Array{NewFloat32Array("states", []int{1, 2}, []float32{1, 2}), NewFloat32Array("other", []int{1}, []float32{9})}); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]float64{path: 1, path + ":other": 9, path + ":states": 1} {
		a, err := LoadArray(spec, "states")
		if err != nil {
			t.Fatal(err)
		}
		if a.Data[0] != want {
			t.Errorf("%s: first value %v, want %v", spec, a.Data[0], want)
		}
	}
	_, err := LoadArray(path+":nope", "states")
	if err == nil || !strings.Contains(err.Error(), `no array "nope" (it holds states, other)`) {
		t.Fatalf("got %v", err)
	}
}

// npyBytes builds an .npy stream from a raw header text (padded as numpy
// does unless raw is set) and data bytes.
func npyBytes(header string, data []byte) []byte {
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	return append(append(out, header...), data...)
}

// zipMembers builds a zip archive from members written with the given method.
func zipMembers(t testing.TB, method uint16, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(members[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// lyingZip stores data under a header that claims uncompressedSize bytes.
func lyingZip(t testing.TB, name string, method uint16, compressed []byte, uncompressedSize uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: method, CRC32: crc32.ChecksumIEEE(compressed),
		CompressedSize64: uint64(len(compressed)), UncompressedSize64: uncompressedSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(compressed); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// badNPZCases lists broken .npz archives and the text each error must hold.
func badNPZCases(t testing.TB) []struct {
	name string
	data []byte
	want string
} {
	f4 := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	two := []byte{0, 0, 128, 63, 0, 0, 0, 64}
	member := func(npy []byte) []byte { return zipMembers(t, zip.Store, map[string][]byte{"states.npy": npy}) }
	valid := member(npyBytes(f4, two))
	hugeHeader := npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }", two)
	return []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an npz (zip) archive"},
		{"garbage", []byte("PK\x03\x04 but then nothing that makes sense at all"), "not an npz (zip) archive"},
		{"truncated archive", valid[:len(valid)-30], "not an npz (zip) archive"},
		{"huge declared shape", member(hugeHeader), `array "states": shape [100000 100000] of <f8 needs 80000000000 data bytes, but only 8 are there`},
		{"huge shape deflated", zipMembers(t, zip.Deflate, map[string][]byte{"q.npy": hugeHeader}), `array "q": shape [100000 100000] of <f8 needs 80000000000`},
		{"deflate size claim", lyingZip(t, "q.npy", zip.Deflate, []byte{1, 2, 3}, 1<<40), `array "q": member declares 1099511627776 bytes from 3 compressed bytes`},
		{"stored size claim", lyingZip(t, "q.npy", zip.Store, []byte{1, 2, 3}, 1<<20), `array "q": stored member declares 1048576 bytes but holds 3`},
		{"unknown compression", lyingZip(t, "q.npy", 12, []byte{1, 2, 3}, 3), `array "q": zip compression method 12 not supported`},
		{"truncated data", member(npyBytes(f4, two[:6])), `array "states": shape [2] of <f4 needs 8 data bytes, but only 6 are there`},
		{"bad magic", member(append([]byte("\x93NUMPZ\x01\x00"), npyBytes(f4, two)[8:]...)), `array "states": not an .npy array: magic`},
		{"npy version 9", member(append([]byte("\x93NUMPY\x09\x00"), npyBytes(f4, two)[8:]...)), `array "states": .npy format version 9.0 not supported`},
		{"header longer than member", member([]byte("\x93NUMPY\x01\x00\xff\xff{'descr'")), `array "states": .npy header length 65535 is longer than`},
		{"header without newline", member(append([]byte("\x93NUMPY\x01\x00\x05\x00"), "abcde"...)), `array "states": .npy header "abcde": want a dictionary`},
		{"complex dtype", member(npyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", make([]byte, 16))), `array "states": dtype "<c16" not supported`},
		{"structured dtype", member(npyBytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", two[:4])), "structured dtypes not supported"},
		{"missing shape", member(npyBytes("{'descr': '<f4', 'fortran_order': False, }", two)), `key "shape" missing`},
		{"negative dimension", member(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", two)), "want dimensions as non-negative integers"},
		{"shape overflows int64", member(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999999999999, 999999999999999999), }", two)), "is too large"},
		{"unknown header key", member(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", two)), `unknown key "extra"`},
		{"fortran_order not bool", member(npyBytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", two)), `key "fortran_order": want True or False`},
		{"duplicate member", zipMembersDup(t, npyBytes(f4, two)), `array "states": appears twice`},
	}
}

// zipMembersDup writes the same member name twice.
func zipMembersDup(t testing.TB, npy []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for range 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "states.npy", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(npy)
	}
	zw.Close()
	return buf.Bytes()
}

func TestReadNPZBadInputs(t *testing.T) {
	cases := badNPZCases(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "bad-" + strings.ReplaceAll(tc.name, " ", "-") + ".npz"
			_, err := ReadNPZArrays(bytes.NewReader(tc.data), int64(len(tc.data)), name)
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "formats: "+name+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q\nwant it to start with %q and contain %q", msg, "formats: "+name+": ", tc.want)
			}
		})
	}
	t.Logf("%d bad npz files, each refused with the expected message", len(cases))
}

func TestReadNPYBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an .npy array: file ends early"},
		{"huge shape in tiny file", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 4), }", nil), "needs 16000000000 data bytes, but only 0 are there"},
		{"truncated header", npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", nil)[:30], "header length 118 is longer than the 20 bytes available"},
	} {
		_, err := DecodeNPY(bytes.NewReader(tc.data), int64(len(tc.data)), "x.npy")
		if err == nil || !strings.HasPrefix(err.Error(), "formats: x.npy: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error naming x.npy containing %q", tc.name, err, tc.want)
		}
	}
}
