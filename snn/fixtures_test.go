package snn

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"path/filepath"
	"testing"

	"github.com/sbinet/npyio/npz"
)

// fixturesDir returns $SPIKEBRIDGE_FIXTURES or ../shared/fixtures next to the
// directory holding go.mod.
func fixturesDir(t testing.TB) string {
	return testfixtures.Dir(t)
}

// brian2FF holds the arrays of snn/brian2_ff_seed1.npz.
type brian2FF struct {
	W      [3][]float64 // (in, out)
	B      [3][]float64
	Sizes  [4]int
	X      []float64 // (n, 4)
	N      int
	Steps  int
	Counts []float64 // (n, 2)
	VFinal []float64
	Hidden [2][]float64 // (n, 16)
	Dec    []int64
}

func loadBrian2FF(t testing.TB) *brian2FF {
	t.Helper()
	path := filepath.Join(fixturesDir(t), "snn", "brian2_ff_seed1.npz")
	f, err := npz.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	var d brian2FF
	read := func(name string, ptr any) []int {
		t.Helper()
		if err := f.Read(name+".npy", ptr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return f.Header(name + ".npy").Descr.Shape
	}
	names := [3]string{"W0", "W1", "W2"}
	for l := range 3 {
		shape := read(names[l], &d.W[l])
		d.Sizes[l], d.Sizes[l+1] = shape[0], shape[1]
		read([]string{"b1", "b2", "b3"}[l], &d.B[l])
	}
	d.N = read("X", &d.X)[0]
	var steps int64
	read("steps", &steps)
	d.Steps = int(steps)
	read("counts", &d.Counts)
	read("v_final", &d.VFinal)
	read("counts_hidden1", &d.Hidden[0])
	read("counts_hidden2", &d.Hidden[1])
	read("decisions", &d.Dec)
	return &d
}
