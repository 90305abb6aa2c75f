package env

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

type goldenStep struct {
	Obs        []float32 `json:"obs"`
	Reward     float64   `json:"reward"`
	Terminated bool      `json:"terminated"`
	Truncated  bool      `json:"truncated"`
}

type goldenEpisode struct {
	Version   string       `json:"version"`
	Policy    string       `json:"policy"`
	InitState []float64    `json:"init_state"`
	Actions   []int        `json:"actions"`
	Steps     []goldenStep `json:"steps"`
}

// TestCartPoleGolden replays every episode of the reference's golden trajectories and
// demands bit-identical float32 observations, equal rewards and flags.
func TestCartPoleGolden(t *testing.T) {
	var golden struct {
		Episodes []goldenEpisode `json:"episodes"`
	}
	readJSON(t, filepath.Join(fixturesDir(t), "cartpole", "golden_trajectories.json"), &golden)
	if len(golden.Episodes) == 0 {
		t.Fatal("golden file has no episodes")
	}
	steps := 0
	for i, ep := range golden.Episodes {
		if len(ep.Actions) != len(ep.Steps) {
			t.Fatalf("episode %d: %d actions but %d steps", i, len(ep.Actions), len(ep.Steps))
		}
		cp, err := NewCartPole(ep.Version)
		if err != nil {
			t.Fatalf("episode %d: %v", i, err)
		}
		obs, err := cp.ResetTo(ep.InitState)
		if err != nil {
			t.Fatalf("episode %d: %v", i, err)
		}
		for j, v := range ep.InitState {
			if obs[j] != float32(v) {
				t.Fatalf("episode %d: reset obs[%d] = %v, want %v", i, j, obs[j], float32(v))
			}
		}
		for k, action := range ep.Actions {
			got, err := cp.Step(action)
			if err != nil {
				t.Fatalf("episode %d (%s %s) step %d: %v", i, ep.Version, ep.Policy, k, err)
			}
			want := ep.Steps[k]
			for j := range want.Obs {
				if math.Float32bits(got.Obs[j]) != math.Float32bits(want.Obs[j]) {
					t.Fatalf("episode %d (%s %s) step %d: obs %v, want %v", i, ep.Version, ep.Policy, k, got.Obs, want.Obs)
				}
			}
			if got.Reward != want.Reward || got.Terminated != want.Terminated || got.Truncated != want.Truncated {
				t.Fatalf("episode %d step %d: reward %v term %v trunc %v, want %v %v %v", i, k,
					got.Reward, got.Terminated, got.Truncated, want.Reward, want.Terminated, want.Truncated)
			}
			steps++
		}
		if _, err := cp.Step(0); !errors.Is(err, ErrEpisodeDone) {
			t.Errorf("episode %d: step after the last golden step: err %v, want ErrEpisodeDone", i, err)
		}
	}
	t.Logf("golden: %d episodes, %d steps checked", len(golden.Episodes), steps)
}

// TestCartPoleSingleSteps compares the float64 state after one step from 500 random
// states spread over the whole non-terminal region (testdata/steps.json, made by the
// reference cartpole.py), bit for bit.
func TestCartPoleSingleSteps(t *testing.T) {
	var fixture struct {
		Cases []struct {
			State  [4]string `json:"state"`
			Action int       `json:"action"`
			Next   [4]string `json:"next"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join("testdata", "steps.json"), &fixture)
	if len(fixture.Cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range fixture.Cases {
		var s, want [4]float64
		for j := range s {
			s[j] = parseHex(t, c.State[j])
			want[j] = parseHex(t, c.Next[j])
		}
		got := cartPoleDynamics(s, c.Action)
		for j := range got {
			if math.Float64bits(got[j]) != math.Float64bits(want[j]) {
				t.Errorf("case %d: state %v action %d: next %v, want %v", i, s, c.Action, got, want)
				break
			}
		}
	}
}

// TestCartPoleConstants checks the folded constants against the reference's
// expressions evaluated in float64, one operation at a time as Python does.
func TestCartPoleConstants(t *testing.T) {
	pi, twelve, two, deg := math.Pi, 12.0, 2.0, 360.0
	massPoleV, massCartV, lengthV := 0.1, 1.0, 0.5
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"theta threshold", thetaThreshold, twelve * two * pi / deg},
		{"total mass", totalMass, massPoleV + massCartV},
		{"pole mass length", poleMassLength, massPoleV * lengthV},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestCartPoleHandStep is the reference's own self-check: one step from the zero
// state pushing right, against the closed form.
func TestCartPoleHandStep(t *testing.T) {
	cp, _ := NewCartPole("v1")
	if _, err := cp.ResetTo([]float64{0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	r, err := cp.Step(1)
	if err != nil {
		t.Fatal(err)
	}
	temp := 10.0 / 1.1
	thetaAcc := (0.0 - temp) / (0.5 * (4.0/3.0 - 0.1/1.1))
	xAcc := temp - 0.05*thetaAcc/1.1
	want := []float32{0, float32(0.02 * xAcc), 0, float32(0.02 * thetaAcc)}
	for i := range want {
		if r.Obs[i] != want[i] {
			t.Fatalf("obs %v, want %v", r.Obs, want)
		}
	}
	if r.Reward != 1 || r.Terminated || r.Truncated {
		t.Fatalf("result %+v", r)
	}
}

func TestCartPoleTruncation(t *testing.T) {
	for _, tc := range []struct {
		version string
		limit   int
	}{{"v1", 500}, {"v0", 200}} {
		t.Run(tc.version, func(t *testing.T) {
			cp, err := NewCartPole(tc.version)
			if err != nil {
				t.Fatal(err)
			}
			if cp.MaxSteps() != tc.limit || cp.Name() != "CartPole-"+tc.version {
				t.Fatalf("MaxSteps %d Name %q", cp.MaxSteps(), cp.Name())
			}
			cp.Reset()
			for k := 1; k <= tc.limit; k++ {
				cp.state = [4]float64{} // always alive, as in the reference's self-check
				r, err := cp.Step(k % 2)
				if err != nil {
					t.Fatalf("step %d: %v", k, err)
				}
				if r.Terminated || r.Truncated != (k == tc.limit) {
					t.Fatalf("step %d: terminated %v truncated %v", k, r.Terminated, r.Truncated)
				}
			}
		})
	}
}

// TestCartPoleAlwaysRight: a constant push must fail within a few dozen steps, with
// reward 1 on the failing step too (the reference's self-check 1).
func TestCartPoleAlwaysRight(t *testing.T) {
	cp, _ := NewCartPole("v1")
	cp.Seed(0)
	cp.Reset()
	total := 0.0
	for n := 1; ; n++ {
		r, err := cp.Step(1)
		if err != nil {
			t.Fatal(err)
		}
		total += r.Reward
		if r.Terminated || r.Truncated {
			if !r.Terminated || n <= 5 || n >= 40 || total != float64(n) {
				t.Fatalf("ended after %d steps (terminated %v), return %v", n, r.Terminated, total)
			}
			return
		}
	}
}

func TestCartPoleMisuse(t *testing.T) {
	fresh := func() *CartPole { cp, _ := NewCartPole("v1"); return cp }
	started := func() *CartPole { cp := fresh(); cp.Reset(); return cp }
	finished := func() *CartPole {
		cp := fresh()
		if _, err := cp.ResetTo([]float64{2.39, 5, 0, 0}); err != nil {
			t.Fatal(err)
		}
		if r, err := cp.Step(1); err != nil || !r.Terminated {
			t.Fatalf("setup: %+v %v", r, err)
		}
		return cp
	}
	for _, tc := range []struct {
		name    string
		cp      *CartPole
		action  int
		wantErr error
		wantMsg string
	}{
		{"step before reset", fresh(), 0, ErrNotReset, ""},
		{"action 2", started(), 2, nil, "action 2 out of range"},
		{"action -1", started(), -1, nil, "action -1 out of range"},
		{"step after termination", finished(), 0, ErrEpisodeDone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cp.Step(tc.action)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err %q, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		state   []float64
		wantMsg string
	}{
		{"short", []float64{0, 0, 0}, "3 values, want 4"},
		{"long", make([]float64, 5), "5 values, want 4"},
		{"nil", nil, "0 values, want 4"},
		{"nan", []float64{0, math.NaN(), 0, 0}, "state[1] = NaN"},
		{"inf", []float64{0, 0, 0, math.Inf(-1)}, "state[3] = -Inf"},
	} {
		t.Run("ResetTo "+tc.name, func(t *testing.T) {
			cp := started()
			_, err := cp.ResetTo(tc.state)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err %v, want it to contain %q", err, tc.wantMsg)
			}
			if _, err := cp.Step(0); err != nil { // the failed ResetTo left the episode alone
				t.Fatalf("step after failed ResetTo: %v", err)
			}
		})
	}
	if _, err := NewCartPole("v2"); err == nil {
		t.Error("NewCartPole(v2): no error")
	}
	// A finished episode steps again after Reset.
	cp := finished()
	cp.Reset()
	if _, err := cp.Step(0); err != nil {
		t.Errorf("step after reset of a finished episode: %v", err)
	}
}

func TestMake(t *testing.T) {
	for _, tc := range []struct {
		id       string
		maxSteps int
	}{{"CartPole-v1", 500}, {"cartpole-v0", 200}, {"CARTPOLE-V1", 500}} {
		e, err := Make(tc.id)
		if err != nil {
			t.Fatalf("Make(%q): %v", tc.id, err)
		}
		if got := e.(*CartPole).MaxSteps(); got != tc.maxSteps || e.ObservationSize() != 4 || e.NumActions() != 2 {
			t.Errorf("Make(%q): max steps %d, sizes %d %d", tc.id, got, e.ObservationSize(), e.NumActions())
		}
	}
	for _, id := range []string{"", "cartpole", "CartPole-v2", "Pendulum-v1", "cartpole-"} {
		if _, err := Make(id); err == nil {
			t.Errorf("Make(%q): no error", id)
		}
	}
}

func TestCartPoleStepAllocs(t *testing.T) {
	cp, _ := NewCartPole("v1")
	cp.Seed(3)
	cp.Reset()
	action := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r, err := cp.Step(action)
		if err != nil {
			t.Fatal(err)
		}
		action = 1 - action
		if r.Terminated || r.Truncated {
			cp.Reset()
		}
	})
	if allocs != 0 {
		t.Fatalf("Step+Reset allocate %v times per call, want 0", allocs)
	}
}

func BenchmarkCartPoleStep(b *testing.B) {
	cp, _ := NewCartPole("v1")
	cp.Seed(0)
	cp.Reset()
	// Alternating actions keep episodes long, so Reset is rare, as in real rollouts.
	for i := 0; b.Loop(); i++ {
		r, err := cp.Step(i & 1)
		if err != nil {
			b.Fatal(err)
		}
		if r.Terminated || r.Truncated {
			cp.Reset()
		}
	}
}
