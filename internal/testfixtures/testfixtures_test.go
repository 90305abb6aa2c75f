package testfixtures

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestRootFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SPIKEBRIDGE_FIXTURES", dir)
	if got := Dir(t, "policies", "x.pt"); got != filepath.Join(dir, "policies", "x.pt") {
		t.Errorf("Dir = %s, want it under %s", got, dir)
	}
	missing := filepath.Join(dir, "absent")
	t.Setenv("SPIKEBRIDGE_FIXTURES", missing)
	if Root(t) != missing {
		t.Errorf("Root = %s, want %s", Root(t), missing)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("the missing root exists")
	}
}

// RandomMLPWeights draws layer by layer, weights before biases, with the
// stated scales: the numbers are the rng's own draws, recomputed here.
func TestRandomMLPWeights(t *testing.T) {
	sizes := []int{4, 3, 2}
	init := MLPInit{FanInScaled: true, BiasMean: 0.3, BiasStd: 0.2}
	ws, bs := RandomMLPWeights(rand.New(rand.NewPCG(7, 8)), sizes, init)
	rng := rand.New(rand.NewPCG(7, 8))
	for l := range ws {
		if len(ws[l]) != sizes[l]*sizes[l+1] || len(bs[l]) != sizes[l+1] {
			t.Fatalf("layer %d: %d weights and %d biases", l, len(ws[l]), len(bs[l]))
		}
		for i, w := range ws[l] {
			if want := float32(rng.NormFloat64() / math.Sqrt(float64(sizes[l]))); w != want {
				t.Fatalf("layer %d weight %d: %v, want %v", l, i, w, want)
			}
		}
		for i, b := range bs[l] {
			if want := float32(0.3 + 0.2*rng.NormFloat64()); b != want {
				t.Fatalf("layer %d bias %d: %v, want %v", l, i, b, want)
			}
		}
	}
	net := RandomMLP(t, rand.New(rand.NewPCG(7, 8)), sizes, init)
	if net.String() != "4-3-2" || net.MACs() != 4*3+3*2 {
		t.Errorf("network %s with %d MACs", net, net.MACs())
	}
}
