package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadNPZ feeds arbitrary bytes to the .npz and .npy readers: an error
// or arrays, never a panic, a hang or an allocation beyond what the input
// can hold; arrays read back must survive a write and re-read.
func FuzzReadNPZ(f *testing.F) {
	root := npzFixturesRoot(f)
	seeds, _ := filepath.Glob(filepath.Join(root, "policies", "*_expected.npz"))
	seeds = append(seeds, filepath.Join(root, "snn", "brian2_ff_seed1.npz"), filepath.Join("testdata", "dtypes_compressed.npz"))
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range badNPZCases(f) {
		f.Add(tc.data)
	}
	f.Add(npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", []byte{0, 0, 128, 63, 0, 0, 0, 64}))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeNPY(bytes.NewReader(data), int64(len(data)), "fuzz.npy")
		arrays, err := ReadNPZArrays(bytes.NewReader(data), int64(len(data)), "fuzz.npz")
		if err != nil {
			return
		}
		for _, a := range arrays {
			if a.Len() != len(a.Data) {
				t.Fatalf("array %q: shape %v but %d values", a.Name, a.Shape, len(a.Data))
			}
			if a.DType[len(a.DType)-2:] == "f2" || a.Name == "" {
				return // float16 is read only; an empty name cannot be written
			}
		}
		var buf bytes.Buffer
		if err := EncodeNPZ(&buf, arrays); err != nil {
			return // e.g. duplicate names after stripping ".npy"
		}
		again, err := ReadNPZArrays(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "again.npz")
		if err != nil {
			t.Fatalf("written arrays do not read back: %v", err)
		}
		for i, a := range again {
			for j, v := range a.Data {
				w := arrays[i].Data[j]
				if v != w && !(v != v && w != w) {
					t.Fatalf("array %q[%d]: %v after a round trip, want %v", a.Name, j, v, w)
				}
			}
		}
	})
}
