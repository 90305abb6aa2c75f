package nir

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/spikebridge/spikebridge/formats/hdf5"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/snn"
)

func nirSeeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob(testfixtures.Dir(t, "nir", "*.nir"))
	var seeds [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	l := snn.Layer{Name: "a", In: 2, Out: 3, Weights: []float32{1, 2, 3, 4, 5, 6}, Threshold: 1, Leak: 0.5, Reset: snn.ResetSubtract, InitialMembrane: 0.5}
	o := snn.Layer{Name: "b", In: 3, Out: 2, Weights: []float32{1, 1, 1, -1, -1, -1}, Bias: []float32{0.1, 0.2}, Threshold: 1, Leak: 1}
	net, err := snn.New(snn.Network{Layers: []snn.Layer{l, o}, OutputScale: 1, Timesteps: 8, Input: snn.InputOf[float32]{Gain: 2}})
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := FromSNN(net, ExportOptions{DT: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := g.Write(&b); err != nil {
		t.Fatal(err)
	}
	return append(seeds, b.Bytes())
}

// importAny reads and imports data; it must return errors, never panic.
func importAny(data []byte) {
	g, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	_, _, _ = ToSNN(g, ImportOptions{DT: 1e-4})
	_, _, _ = ToSNN(g, ImportOptions{})
}

// FuzzImport feeds arbitrary bytes through the NIR reader and the mapping
// onto snn: an error or a network, never a panic.
func FuzzImport(f *testing.F) {
	for _, s := range nirSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { importAny(data) })
}

// TestImportMutations runs 3000 byte-level mutations of the seeds through
// importAny (go test -fuzz makes no progress on this machine).
func TestImportMutations(t *testing.T) {
	seeds := nirSeeds(t)
	r := rand.New(rand.NewPCG(15, 2))
	for n := 0; n < 3000; n++ {
		d := append([]byte(nil), seeds[r.IntN(len(seeds))]...)
		for k := 0; k < 1+r.IntN(4); k++ {
			i := r.IntN(len(d))
			if r.IntN(2) == 0 {
				d[i] = byte(r.IntN(256))
			} else {
				d[i] ^= 1 << r.IntN(8)
			}
		}
		importAny(d)
	}
}

// TestImportGraphMutations edits parsed graphs (parameters of other shapes,
// NaN, Inf, zero or negative values, missing parameters, other node types,
// extra edges) and maps them onto snn: errors, never a panic.
func TestImportGraphMutations(t *testing.T) {
	seeds := nirSeeds(t)
	iterations := 3000
	if v, err := strconv.Atoi(os.Getenv("SPIKEBRIDGE_NIR_MUTATIONS")); err == nil && v > 0 {
		iterations = v
	}
	r := rand.New(rand.NewPCG(15, uint64(iterations)))
	types := []string{"Input", "Output", "Affine", "Linear", "Scale", "Flatten", "IF", "LIF", "I", "LI", "CubaLIF", "Conv2d", "Bogus"}
	values := []float64{0, -1, 1, 1e-9, 1e30, math.NaN(), math.Inf(1), math.Inf(-1), 2.5e-3}
	for n := 0; n < iterations; n++ {
		data := seeds[r.IntN(len(seeds))]
		g, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(g.Nodes))
		for k := range g.Nodes {
			names = append(names, k)
		}
		sort.Strings(names)
		for k := 0; k < 1+r.IntN(3); k++ {
			node := g.Nodes[names[r.IntN(len(names))]]
			switch r.IntN(5) {
			case 0:
				node.Type = types[r.IntN(len(types))]
			case 1:
				for p := range node.Params {
					delete(node.Params, p)
					break
				}
			case 2, 3:
				for p, d := range node.Params {
					size := r.IntN(4)
					shape := []int{size}
					if r.IntN(3) == 0 {
						shape = []int{size, r.IntN(3)}
					}
					nd := &hdf5.Dataset{Shape: shape, Kind: hdf5.Float64}
					for range nd.Len() {
						nd.Float64 = append(nd.Float64, values[r.IntN(len(values))])
					}
					_ = d
					node.Params[p] = nd
					break
				}
			case 4:
				g.Edges = append(g.Edges, [2]string{names[r.IntN(len(names))], names[r.IntN(len(names))]})
			}
		}
		for _, dt := range []float64{1e-4, 0} {
			if net, _, err := ToSNN(g, ImportOptions{DT: dt}); err == nil && net == nil {
				t.Fatal("no error and no network")
			}
		}
	}
}
