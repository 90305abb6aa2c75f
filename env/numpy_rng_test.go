package env

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSeedMatchesNumpy compares Seed+Reset against
// np.random.default_rng(seed).uniform(-0.05, 0.05, size=4) on successive resets
// (testdata/seeds.json, made by testdata/gen_seeds.py), bit for bit.
func TestSeedMatchesNumpy(t *testing.T) {
	var fixture struct {
		Seeds []struct {
			Seed   string      `json:"seed"`
			States [][4]string `json:"states"`
		} `json:"seeds"`
	}
	readJSON(t, filepath.Join("testdata", "seeds.json"), &fixture)
	if len(fixture.Seeds) == 0 {
		t.Fatal("no seeds")
	}
	cp, _ := NewCartPole("v1")
	for _, s := range fixture.Seeds {
		seed, err := strconv.ParseUint(s.Seed, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		cp.Seed(seed)
		for r, want := range s.States {
			obs := cp.Reset()
			state := cp.State()
			for j := range want {
				w := parseHex(t, want[j])
				if math.Float64bits(state[j]) != math.Float64bits(w) || obs[j] != float32(w) {
					t.Fatalf("seed %d reset %d: state %v, want %v", seed, r, state, want)
				}
			}
		}
	}
}

// TestNewCartPoleSeedsZero: a new environment draws as if Seed(0) had been called.
func TestNewCartPoleSeedsZero(t *testing.T) {
	a, _ := NewCartPole("v1")
	b, _ := NewCartPole("v1")
	b.Seed(0)
	a.Reset()
	b.Reset()
	if a.State() != b.State() {
		t.Fatalf("%v != %v", a.State(), b.State())
	}
}

// TestNumpyUniformRange: 10^5 draws stay in [-0.05, 0.05) with mean near 0.
func TestNumpyUniformRange(t *testing.T) {
	r := newNumpyRNG(99)
	sum := 0.0
	const n = 100000
	for i := 0; i < n; i++ {
		v := r.uniform(-0.05, 0.05)
		if v < -0.05 || v >= 0.05 {
			t.Fatalf("draw %d = %v out of range", i, v)
		}
		sum += v
	}
	// std of the mean: 0.1/sqrt(12*n) ~ 9e-5; allow 5 sigma.
	if mean := sum / n; math.Abs(mean) > 4.6e-4 {
		t.Fatalf("mean %v", mean)
	}
}
