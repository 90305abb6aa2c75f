package env

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type vanDerPolReference struct {
	Period, Amplitude float64
	X0                []float64 `json:"x0"`
	States            []struct{ T, X, Y float64 }
}

func loadVanDerPolReference(t *testing.T) vanDerPolReference {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vanderpol.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref vanDerPolReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// The Go RK4 at h = 1 ms matches the Python RK4 at h = 0.1 ms (both converge
// to the exact flow; the difference is RK4's h⁴ error).
func TestVanDerPolMatchesReferenceIntegration(t *testing.T) {
	ref := loadVanDerPolReference(t)
	sys := NewVanDerPol(1)
	it := NewIntegrator(sys)
	state := append([]float64(nil), ref.X0...)
	u := []float64{0}
	tNow := 0.0
	for _, want := range ref.States {
		steps := int(math.Round((want.T - tNow) / 0.01))
		for k := 0; k < steps; k++ {
			it.Advance(state, u, 0.01, 10)
		}
		tNow = want.T
		if math.Abs(state[0]-want.X) > 1e-9 || math.Abs(state[1]-want.Y) > 1e-9 {
			t.Errorf("t=%v: state (%.12f, %.12f), reference (%.12f, %.12f)", want.T, state[0], state[1], want.X, want.Y)
		}
	}
}

func TestVanDerPolLimitCycle(t *testing.T) {
	ref := loadVanDerPolReference(t)
	if math.Abs(ref.Period-VanDerPolPeriodMu1) > 1e-9 {
		t.Fatalf("reference period %.12f, literature %.12f", ref.Period, VanDerPolPeriodMu1)
	}
	// Unforced run from a point inside the cycle, sampled at dt = 0.01.
	rec, err := GenerateProbe(NewVanDerPol(1), ProbeConfig{Trials: 1, Duration: 60, Dt: 0.01, Substeps: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var crossings []float64
	amp := 0.0
	for k := 0; k+1 < rec.Steps; k++ {
		x0, x1 := rec.States[2*k], rec.States[2*k+2]
		if float64(k)*rec.Dt < 20 {
			continue
		}
		amp = max(amp, math.Abs(x0))
		if x0 < 0 && x1 >= 0 {
			crossings = append(crossings, (float64(k)+x0/(x0-x1))*rec.Dt)
		}
	}
	period := (crossings[len(crossings)-1] - crossings[0]) / float64(len(crossings)-1)
	// Linear interpolation of crossings at dt = 0.01 is good to ~1e-4 s.
	if math.Abs(period-ref.Period) > 2e-4 {
		t.Errorf("period %.6f, reference %.6f", period, ref.Period)
	}
	if math.Abs(amp-ref.Amplitude) > 1e-3 {
		t.Errorf("amplitude %.6f, reference %.6f", amp, ref.Amplitude)
	}
}

func TestProbeInputIsFilteredNoise(t *testing.T) {
	cfg := ProbeConfig{Trials: 20, Duration: 200, Dt: 0.05, Substeps: 1, Seed: 7, InputStd: 0.5, InputTau: 0.5}
	rec, err := GenerateProbe(NewVanDerPol(1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sum2, lag float64
	var n, nLag int
	for tr := 0; tr < rec.Trials; tr++ {
		u := rec.Inputs[tr*rec.Steps : (tr+1)*rec.Steps]
		for k, v := range u {
			sum += v
			sum2 += v * v
			n++
			if k > 0 {
				lag += v * u[k-1]
				nLag++
			}
		}
	}
	mean := sum / float64(n)
	std := math.Sqrt(sum2/float64(n) - mean*mean)
	rho := (lag / float64(nLag)) / (sum2 / float64(n))
	wantRho := math.Exp(-cfg.Dt / cfg.InputTau)
	// 80000 samples with a correlation time of 10 samples: ~4000 independent.
	if math.Abs(mean) > 0.03 || math.Abs(std-cfg.InputStd) > 0.03 || math.Abs(rho-wantRho) > 0.01 {
		t.Errorf("input mean %.4f std %.4f lag-1 correlation %.4f, want 0, %v, %.4f", mean, std, rho, cfg.InputStd, wantRho)
	}
}

func TestGenerateProbeDeterministicPerTrial(t *testing.T) {
	cfg := DefaultVanDerPolProbe()
	cfg.Trials, cfg.Duration = 3, 2
	a, err := GenerateProbe(NewVanDerPol(1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Trials = 2
	b, err := GenerateProbe(NewVanDerPol(1), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.States {
		if a.States[i] != b.States[i] {
			t.Fatalf("state value %d differs between runs with 3 and 2 trials", i)
		}
	}
	cfg.Seed++
	c, _ := GenerateProbe(NewVanDerPol(1), cfg)
	if c.States[0] == b.States[0] {
		t.Error("seed does not change the initial state")
	}
}

func TestProbeConfigBad(t *testing.T) {
	base := DefaultVanDerPolProbe()
	for _, tc := range []struct {
		name string
		edit func(*ProbeConfig)
		want string
	}{
		{"no trials", func(c *ProbeConfig) { c.Trials = 0 }, "0 trials"},
		{"zero dt", func(c *ProbeConfig) { c.Dt = 0 }, "dt 0"},
		{"NaN dt", func(c *ProbeConfig) { c.Dt = math.NaN() }, "dt NaN"},
		{"short", func(c *ProbeConfig) { c.Duration = 0.01 }, "at least one dt"},
		{"negative std", func(c *ProbeConfig) { c.InputStd = -1 }, "input std"},
		{"zero tau", func(c *ProbeConfig) { c.InputTau = 0 }, "correlation time"},
		{"huge", func(c *ProbeConfig) { c.Trials = 1 << 20; c.Duration = 1000 }, "10 million"},
	} {
		cfg := base
		tc.edit(&cfg)
		_, err := GenerateProbe(NewVanDerPol(1), cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	cfg := base
	cfg.Trials, cfg.InputStd, cfg.Dt, cfg.Duration = 1, 1e6, 1, 50
	if _, err := GenerateProbe(NewVanDerPol(1), cfg); err == nil || !strings.Contains(err.Error(), "diverged") {
		t.Errorf("divergent run: error %v, want one saying it diverged", err)
	}
}
