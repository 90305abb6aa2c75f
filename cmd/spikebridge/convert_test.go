package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/workflow"
)

// The record -> train classifier -> convert -> compare -> eval pipeline on
// the seed-1 fixture policy, with small settings.
func TestConversionPipeline(t *testing.T) {
	modelPath, expected := torchPolicyModel(t, "1")
	dir := t.TempDir()
	states := filepath.Join(dir, "states.npz")

	code, out, errOut := runCLI(t, "record", "--model", modelPath, "--episodes", "2", "--seed", "4", "-o", states, "--json")
	if code != 0 {
		t.Fatalf("record: exit %d: %s", code, errOut)
	}
	var rec workflow.RecordResult
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("record --json: %v\n%s", err, out)
	}
	arrays, err := formats.ReadNPZ(states)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"states", "q", "actions", "taken", "init_states", "returns", "episode_starts"} {
		if arrays[name] == nil {
			t.Errorf("record wrote no %q array", name)
		}
	}
	// Greedy recording: the returns of a plain greedy run from the same seed.
	net, _, err := formats.LoadModel(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := env.Make("cartpole-v1")
	greedy, err := env.Run(e, model.NewQPolicy(net), env.RunOptions{Episodes: 2, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := arrays["returns"].Data; got[0] != greedy.Returns[0] || got[1] != greedy.Returns[1] {
		t.Errorf("recorded returns %v, greedy run %v", got, greedy.Returns)
	}
	if rec.States != greedy.Lengths[0]+greedy.Lengths[1] || arrays["states"].Shape[0] != rec.States {
		t.Errorf("%d states recorded, episodes last %v", rec.States, greedy.Lengths)
	}

	student := filepath.Join(dir, "student.safetensors")
	code, out, errOut = runCLI(t, "train", "classifier", "--data", states, "--teacher", modelPath, "--epochs", "2",
		"--hidden", "16,16", "-o", student, "--json")
	if code != 0 {
		t.Fatalf("train classifier: exit %d: %s", code, errOut)
	}
	var tc map[string]any
	if err := json.Unmarshal([]byte(out), &tc); err != nil || tc["accuracy"] == nil || tc["samples"].(float64) != float64(rec.States) {
		t.Errorf("train classifier --json: %v %s", err, out)
	}
	if s, _, err := formats.LoadModel(student); err != nil || s.String() != "4-16-16-2" {
		t.Errorf("student %v: %v", s, err)
	}

	snnBaseline := filepath.Join(dir, "baseline.safetensors")
	code, out, errOut = runCLI(t, "convert", "--model", modelPath, "--calib", states, "--method", "baseline",
		"--timesteps", "32", "-o", snnBaseline, "--json")
	if code != 0 {
		t.Fatalf("convert baseline: exit %d: %s", code, errOut)
	}
	var cr workflow.ConvertResult
	if err := json.Unmarshal([]byte(out), &cr); err != nil || cr.Timesteps != 32 || cr.Sizes != "4-64-64-2" || cr.States != rec.States {
		t.Errorf("convert --json: %v %+v", err, cr)
	}
	s, meta, err := formats.LoadSNN(snnBaseline)
	if err != nil {
		t.Fatal(err)
	}
	if s.Timesteps != 32 || meta.Provenance.Settings["method"] != "baseline" || meta.Provenance.Settings["percentile"] != "99.9" {
		t.Errorf("SNN file: T %d, provenance %v", s.Timesteps, meta.Provenance.Settings)
	}

	snnDistill := filepath.Join(dir, "distill.safetensors")
	distilled := filepath.Join(dir, "distilled_student.safetensors")
	code, out, errOut = runCLI(t, "convert", "--model", modelPath, "--calib", states, "--epochs", "3", "--dagger-rounds", "1",
		"--dagger-episodes", "1", "--dagger-epochs", "1", "--teacher-episodes", "1", "--hidden", "16,16", "--student-out", distilled, "-o", snnDistill, "--json")
	if code != 0 {
		t.Fatalf("convert distill: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &cr); err != nil || cr.Method != "distill" || len(cr.Rounds) != 1 || cr.StudentAccuracy == nil {
		t.Errorf("convert distill --json: %v %s", err, out)
	}
	// The default keeps the best measured student (the final one measured
	// once more) and converts it with two copies per hidden neuron.
	if cr.KeptRound == nil || *cr.KeptRound > 1 || cr.FinalCheck == nil || cr.KeptAgreement == nil || *cr.KeptAgreement <= 0 {
		t.Errorf("convert distill --json: kept round %v, agreement %v, final check %v", cr.KeptRound, cr.KeptAgreement, cr.FinalCheck)
	}
	if s, meta, err := formats.LoadSNN(snnDistill); err != nil || s.String() != "4-32-32-2" || meta.Provenance.Settings["copies"] != "2" {
		t.Errorf("distilled SNN %v (%v), provenance %v: want 4-32-32-2, two copies of the 16-16 student", s, err, meta.Provenance.Settings)
	}

	if _, meta, err := formats.LoadModel(distilled); err != nil || meta.Provenance.Settings["clip_floor"] != "16" {
		t.Errorf("student file provenance %v (%v): want clip_floor 16, the default", meta.Provenance.Settings, err)
	}
	// Deterministic: the same flags give the same bytes.
	again := filepath.Join(dir, "distill2.safetensors")
	if code, _, errOut = runCLI(t, "convert", "--model", modelPath, "--calib", states, "--epochs", "3", "--dagger-rounds", "1",
		"--dagger-episodes", "1", "--dagger-epochs", "1", "--teacher-episodes", "1", "--hidden", "16,16", "-o", again); code != 0 {
		t.Fatalf("convert distill again: exit %d: %s", code, errOut)
	}
	if !bytes.Equal(readDQNFile(t, snnDistill), readDQNFile(t, again)) {
		t.Error("two identical distill conversions wrote different files")
	}

	cmpDir := filepath.Join(dir, "cmp")
	code, out, errOut = runCLI(t, "compare", "--ann", modelPath, "--snn", snnDistill, "--source", distilled,
		"--init-states", expected, "--timesteps", "8,16", "--out", cmpDir, "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("compare --json: %v\n%s", err, out)
	}
	if doc["episodes"].(float64) != 100 {
		t.Errorf("compare: %v episodes, want the fixture's 100 initial states", doc["episodes"])
	}
	ann := doc["ann"].(map[string]any)
	if ann["returns_mean"].(float64) != 500 || ann["returns_std"].(float64) != 0 {
		t.Errorf("ANN returns %v ± %v, the torch policy's are 500 ± 0", ann["returns_mean"], ann["returns_std"])
	}
	results := doc["results"].([]any)
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for _, r := range results {
		for _, k := range []string{"timesteps", "agreement_own", "agreement_fixed", "agreement_decisive", "snn_returns_mean",
			"snn_returns_std", "q_abs_error", "spikes_per_decision", "synops_per_decision", "ann_macs_per_decision", "agreement_source"} {
			if _, ok := r.(map[string]any)[k]; !ok {
				t.Errorf("compare result lacks %q", k)
			}
		}
	}
	onDisk, err := os.ReadFile(filepath.Join(cmpDir, workflow.CompareJSONFile))
	if err != nil || !bytes.Equal(onDisk, []byte(out)) {
		t.Errorf("compare.json differs from the --json document (%v)", err)
	}
	f, err := os.Open(filepath.Join(cmpDir, workflow.CompareCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(workflow.CompareCSVHeader, ",") || rows[1][0] != "8" {
		t.Errorf("compare.csv: %v %v", err, rows)
	}
	for _, png := range []string{workflow.CompareAgreementPNG, workflow.CompareReturnPNG, workflow.CompareQScatterPNG, workflow.CompareSpikeRaster} {
		data, err := os.ReadFile(filepath.Join(cmpDir, png))
		if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("%s: not a PNG (%v)", png, err)
		}
	}

	// eval plays the SNN file at a given T.
	code, out, errOut = runCLI(t, "eval", "--model", snnDistill, "--timesteps", "8", "--episodes", "2", "--json")
	if code != 0 {
		t.Fatalf("eval SNN: exit %d: %s", code, errOut)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev["timesteps"].(float64) != 8 || ev["spikes_per_decision"].(float64) <= 0 {
		t.Errorf("eval SNN --json: %v %s", err, out)
	}
}

func TestConversionVerbsBadInput(t *testing.T) {
	modelPath, _ := torchPolicyModel(t, "1")
	dir := t.TempDir()
	narrow := filepath.Join(dir, "narrow.npz")
	if err := formats.WriteNPZ(narrow, []*formats.Array{formats.NewFloat32Array("states", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "x.safetensors")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"record epsilon", []string{"record", "--model", modelPath, "--epsilon", "2", "-o", filepath.Join(dir, "r.npz")}, 2, "--epsilon 2"},
		{"record no output", []string{"record", "--model", modelPath}, 2, "-o FILE.npz is required"},
		{"convert T = 0", []string{"convert", "--model", modelPath, "--calib", narrow, "--timesteps", "0", "-o", out}, 2, "--timesteps 0: want T > 0"},
		{"convert method", []string{"convert", "--model", modelPath, "--calib", narrow, "--method", "magic", "-o", out}, 2, `--method "magic"`},
		{"convert width", []string{"convert", "--model", modelPath, "--calib", narrow, "-o", out}, 1, "states have 3 columns, the model takes 4 inputs"},
		{"compare T", []string{"compare", "--ann", modelPath, "--snn", out, "--timesteps", "8,-1", "--out", dir}, 2, "timesteps -1"},
		{"compare snn kind", []string{"compare", "--ann", modelPath, "--snn", modelPath, "--out", dir}, 1, `model kind "ann", want "snn"`},
		{"classifier labels", []string{"train", "classifier", "--data", narrow, "-o", out}, 2, `no "actions" labels`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed convert left %s behind", out)
	}
}
