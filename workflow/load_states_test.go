package workflow

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

func TestLoadStatesBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays ...*formats.Array) string {
		path := filepath.Join(dir, name)
		if err := formats.WriteNPZ(path, arrays); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		name string
		path string
		want string
	}{
		{"wrong width", write("w.npz", formats.NewFloat32Array("states", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})), "states have 3 columns, the model takes 4 inputs"},
		{"empty", write("e.npz", formats.NewFloat32Array("states", []int{0, 4}, nil)), "no states"},
		{"NaN", write("n.npz", formats.NewFloat32Array("states", []int{1, 4}, []float32{0, 0, float32(math.NaN()), 0})), "state 0, column 2 is NaN"},
		{"no states array", write("x.npz", formats.NewFloat32Array("obs", []int{1, 4}, []float32{0, 0, 0, 0})), `no array "states"`},
		{"1-d", write("v.npz", formats.NewFloat32Array("states", []int{4}, []float32{0, 0, 0, 0})), "want (rows, 4)"},
		{"labels", write("l.npz", formats.NewFloat32Array("states", []int{1, 4}, []float32{0, 0, 0, 0}), formats.NewInt64Array("actions", []int{2}, []int{0, 1})), "2 labels for 1 states"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := LoadStates(c.path, 4)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Fatalf("error %v, want one naming %s and containing %q", err, c.path, c.want)
			}
		})
	}
}
