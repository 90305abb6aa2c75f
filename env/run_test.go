package env

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// angleSign pushes toward the side the pole leans to (the policy of gen_runs.py).
type angleSign struct{}

func (angleSign) Act(obs []float32) int {
	if obs[2] > 0 {
		return 1
	}
	return 0
}

// TestRunMatchesReference: seeded once, reset per episode, the returns equal the
// reference script's episode by episode (testdata/runs.json from gen_runs.py).
func TestRunMatchesReference(t *testing.T) {
	var fixture struct {
		Runs []struct {
			Version string    `json:"version"`
			Seed    uint64    `json:"seed"`
			Returns []float64 `json:"returns"`
		} `json:"runs"`
	}
	readJSON(t, filepath.Join("testdata", "runs.json"), &fixture)
	if len(fixture.Runs) == 0 {
		t.Fatal("no runs")
	}
	for _, want := range fixture.Runs {
		cp, err := NewCartPole(want.Version)
		if err != nil {
			t.Fatal(err)
		}
		cp.Seed(999) // Run must reseed
		cp.Reset()
		got, err := Run(cp, angleSign{}, RunOptions{Episodes: len(want.Returns), Seed: want.Seed})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Returns, want.Returns) {
			t.Errorf("%s seed %d: returns %v, want %v", want.Version, want.Seed, got.Returns, want.Returns)
		}
	}
}

// scripted replays fixed action lists, one per episode, in order.
type scripted struct {
	actions [][]int
	ep, k   int
}

func (s *scripted) Act([]float32) int {
	if s.k == len(s.actions[s.ep]) {
		s.ep, s.k = s.ep+1, 0
	}
	a := s.actions[s.ep][s.k]
	s.k++
	return a
}

// TestRunInitStatesRecord replays the golden episodes through Run from their initial
// states: every return equals the episode's length, and the recorded states are the
// observations the policy saw (episode starts at the initial state).
func TestRunInitStatesRecord(t *testing.T) {
	var golden struct {
		Episodes []goldenEpisode `json:"episodes"`
	}
	readJSON(t, filepath.Join(fixturesDir(t), "cartpole", "golden_trajectories.json"), &golden)
	for _, version := range []string{"v1", "v0"} {
		var inits [][]float64
		var actions [][]int
		var steps [][]goldenStep
		for _, ep := range golden.Episodes {
			if ep.Version == version {
				inits = append(inits, ep.InitState)
				actions = append(actions, ep.Actions)
				steps = append(steps, ep.Steps)
			}
		}
		cp, _ := NewCartPole(version)
		res, err := Run(cp, &scripted{actions: actions}, RunOptions{InitStates: inits, RecordStates: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Returns) != len(inits) || len(res.EpisodeStarts) != len(inits) {
			t.Fatalf("%s: %d returns, %d starts for %d episodes", version, len(res.Returns), len(res.EpisodeStarts), len(inits))
		}
		total := 0
		for i := range inits {
			if res.Returns[i] != float64(len(actions[i])) || res.Lengths[i] != len(actions[i]) {
				t.Errorf("%s episode %d: return %v length %d, want %d", version, i, res.Returns[i], res.Lengths[i], len(actions[i]))
			}
			start := res.EpisodeStarts[i]
			if start != total {
				t.Errorf("%s episode %d starts at %d, want %d", version, i, start, total)
			}
			for j, v := range inits[i] {
				if res.States[start][j] != float32(v) {
					t.Errorf("%s episode %d: first recorded state %v, want init %v", version, i, res.States[start], inits[i])
				}
			}
			// The state acted on at step k+1 is the golden observation after step k.
			for k := 0; k+1 < len(actions[i]); k++ {
				if !slices.Equal(res.States[start+k+1], steps[i][k].Obs) {
					t.Fatalf("%s episode %d state %d: %v, want %v", version, i, k+1, res.States[start+k+1], steps[i][k].Obs)
				}
			}
			total += len(actions[i])
		}
		if len(res.States) != total || !slices.Equal(res.Actions, slices.Concat(actions...)) {
			t.Errorf("%s: %d states (want %d), actions equal %v", version, len(res.States), total,
				slices.Equal(res.Actions, slices.Concat(actions...)))
		}
	}
}

type constPolicy int

func (c constPolicy) Act([]float32) int { return int(c) }

func TestRunBadUse(t *testing.T) {
	cp, _ := NewCartPole("v1")
	good := [][]float64{{0, 0, 0, 0}, {0.01, 0, 0, 0}}
	for _, tc := range []struct {
		name    string
		env     Env
		policy  Policy
		opts    RunOptions
		wantMsg string
	}{
		{"nil env", nil, constPolicy(0), RunOptions{Episodes: 1}, "nil environment"},
		{"nil policy", cp, nil, RunOptions{Episodes: 1}, "nil policy"},
		{"negative episodes", cp, constPolicy(0), RunOptions{Episodes: -1}, "-1 episodes"},
		{"huge episodes", cp, constPolicy(0), RunOptions{Episodes: 1 << 40}, "at most"},
		{"no episodes", cp, constPolicy(0), RunOptions{}, "0 episodes and no initial states"},
		{"count mismatch", cp, constPolicy(0), RunOptions{Episodes: 3, InitStates: good}, "3 episodes but 2 initial states"},
		{"bad init state", cp, constPolicy(0), RunOptions{InitStates: [][]float64{{0, 0, 0, 0}, {0, 0, 0}}}, "episode 1: env: CartPole-v1: ResetTo: state has 3 values"},
		{"bad action", cp, constPolicy(2), RunOptions{Episodes: 1}, "episode 0, step 1: env: CartPole-v1: action 2 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(tc.env, tc.policy, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err %v, want it to contain %q", err, tc.wantMsg)
			}
		})
	}
}

// TestRunDeterministic: the same seed gives the same returns; another seed other ones.
func TestRunDeterministic(t *testing.T) {
	run := func(envSeed, policySeed uint64) []float64 {
		cp, _ := NewCartPole("v1")
		r, err := Run(cp, NewRandomPolicy(policySeed), RunOptions{Episodes: 20, Seed: envSeed})
		if err != nil {
			t.Fatal(err)
		}
		return r.Returns
	}
	a, b, c := run(5, 1), run(5, 1), run(6, 1)
	if !slices.Equal(a, b) {
		t.Fatalf("same seeds: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("different env seeds gave the same returns %v", a)
	}
}
