package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the reader: an error or a tree, never a
// panic, a hang or an allocation beyond ReadOptions.MaxBytes; a tree read
// without error must survive Write and Read again unchanged.
func FuzzRead(f *testing.F) {
	seeds := nirFixtures(f)
	seeds = append(seeds, filepath.Join("testdata", "chunked_h5py.h5"))
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	var b bytes.Buffer
	if err := Write(&b, sampleTree()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Read(bytes.NewReader(data), int64(len(data)), ReadOptions{MaxBytes: 1 << 22})
		if err != nil {
			return
		}
		dropUnsupported(g)
		var out bytes.Buffer
		if err := Write(&out, g); err != nil {
			return // e.g. a group of more members than the writer stores
		}
		back, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()), ReadOptions{})
		if err != nil {
			t.Fatalf("reading our own rewrite: %v", err)
		}
		if !equalBits(g, back) {
			t.Fatal("the rewritten tree differs")
		}
	})
}

func dropUnsupported(g *Group) {
	for n, d := range g.Datasets {
		if d.Kind == Unsupported {
			delete(g.Datasets, n)
		}
	}
	for _, sub := range g.Groups {
		dropUnsupported(sub)
	}
}
