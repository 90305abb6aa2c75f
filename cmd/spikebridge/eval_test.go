package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

func runEvalJSON(t *testing.T, opts EvalOptions) workflow.EvalResult {
	t.Helper()
	var out bytes.Buffer
	opts.IO = &IOStreams{Out: &out, ErrOut: &out}
	opts.JSON = true
	if err := runEval(&opts); err != nil {
		t.Fatal(err)
	}
	var res workflow.EvalResult
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out.String())
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", out.String())
	}
	// DESIGN.md: these names sit at the top level of the document.
	var top map[string]any
	if err := json.Unmarshal(out.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"episodes", "returns", "mean", "std", "min", "max"} {
		if _, ok := top[key]; !ok {
			t.Errorf("--json lacks top-level %q", key)
		}
	}
	return res
}

// TestEvalReproducesTorchReturns plays the fixture policies from the
// fixture's initial states: every episode's return must equal the one the
// PyTorch policy got from the same state.
func TestEvalReproducesTorchReturns(t *testing.T) {
	for _, seed := range []string{"1", "2"} {
		modelPath, expected := torchPolicyModel(t, seed)
		res := runEvalJSON(t, EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", InitStates: expected}})
		want, err := formats.ReadNPZ(expected)
		if err != nil {
			t.Fatal(err)
		}
		wantReturns := want["returns"].Data
		if res.Episodes != len(wantReturns) || len(res.Returns) != len(wantReturns) {
			t.Fatalf("seed %s: %d episodes, want %d", seed, res.Episodes, len(wantReturns))
		}
		differ := 0
		for i, r := range res.Returns {
			if r != wantReturns[i] {
				differ++
				t.Errorf("seed %s: episode %d: return %v, torch %v", seed, i, r, wantReturns[i])
			}
		}
		mean, std, _, _ := env.ReturnStats(wantReturns)
		t.Logf("seed %s: %d episodes, return %.2f ± %.2f (torch %.2f ± %.2f), %d differ", seed, res.Episodes, res.Mean, res.Std, mean, std, differ)
		if math.Abs(res.Mean-mean) > 1e-9 || math.Abs(res.Std-std) > 1e-9 {
			t.Errorf("seed %s: mean/std %v/%v, want %v/%v", seed, res.Mean, res.Std, mean, std)
		}
		if res.InitStates != expected || res.Seed != nil {
			t.Errorf("seed %s: init_states %q seed %v", seed, res.InitStates, res.Seed)
		}
	}
}

func TestEvalSeededEpisodes(t *testing.T) {
	modelPath, _ := torchPolicyModel(t, "1")
	// The seed-1 policy balances for the full 500 steps in every episode.
	res := runEvalJSON(t, EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", Episodes: 5, Seed: 3}})
	if res.Episodes != 5 || res.Mean != 500 || res.Std != 0 || res.Min != 500 || res.Max != 500 || res.Seed == nil || *res.Seed != 3 {
		t.Fatalf("got %+v, want 5 episodes of 500", res)
	}
	// CartPole-v0 truncates at 200.
	res = runEvalJSON(t, EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "CartPole-v0", Episodes: 3, Seed: 3}})
	if res.Mean != 200 || res.Max != 200 {
		t.Fatalf("v0: got %+v, want returns of 200", res)
	}
	var out bytes.Buffer
	if err := runEval(&EvalOptions{IO: &IOStreams{Out: &out, ErrOut: &out}, EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", Episodes: 2, Seed: 1}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 greedy episodes: return 500.00 ± 0.00") || !strings.Contains(out.String(), "returns: 500 500") {
		t.Fatalf("text output %q", out.String())
	}
}

func TestEvalBadInputs(t *testing.T) {
	modelPath, expected := torchPolicyModel(t, "1")
	for _, tc := range []struct {
		name  string
		opts  EvalOptions
		want  string
		usage bool
	}{
		{"both episode sources", EvalOptions{EpisodesSet: true, EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", Episodes: 3, InitStates: expected}}, "exclude each other", true},
		{"no episodes", EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", Episodes: 0}}, "--episodes 0", true},
		{"unknown env", EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "mountaincar-v0", Episodes: 1}}, `unknown environment "mountaincar-v0"`, true},
		{"init states of wrong width", EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", InitStates: expected + ":q"}}, `array "q" has shape [2500 2], want (episodes, 4) initial states`, false},
		{"missing model", EvalOptions{EvalOptions: workflow.EvalOptions{Model: "no-such.safetensors", Env: "cartpole-v1", Episodes: 1}}, "no-such.safetensors", false},
		{"negative T", EvalOptions{EvalOptions: workflow.EvalOptions{Model: modelPath, Env: "cartpole-v1", Episodes: 1, Timesteps: -1}}, "--timesteps -1: want T > 0", true},
	} {
		tc.opts.IO = &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		err := runEval(&tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
			continue
		}
		var ue usageError
		if errors.As(err, &ue) != tc.usage {
			t.Errorf("%s: usage error %v, want %v", tc.name, !tc.usage, tc.usage)
		}
	}
}
