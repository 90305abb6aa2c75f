package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/report"
	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// pipelineStages is the number of stages the help lists and the progress
// lines count ([n/7]).
const pipelineStages = workflow.PipelineStages

// tinyStages makes the pipeline's stages tiny: the test checks the
// plumbing and the figures' ranges, not learning (the acceptance run is the
// default one, minutes long).
func tinyStages(o *workflow.PipelineOptions) {
	cfg := train.DefaultConfig()
	cfg.EvalEpisodes, cfg.KeepBestEvery, cfg.KeepBestEps, cfg.CheckpointEvery, cfg.Warmup = 5, 1000, 2, 1000, 500
	distill := workflow.DefaultConvertOptions()
	distill.Classifier.Epochs, distill.Classifier.Hidden = 3, []int{16, 16}
	distill.DaggerRounds, distill.DaggerEpisodes, distill.DaggerEpochs = 1, 2, 1
	o.Train, o.Distill = &cfg, &distill
}

// runTinyPipeline runs `pipeline args...` with tiny stages and returns the
// exit code, stdout and stderr.
func runTinyPipeline(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	var opts *PipelineOptions
	cmd := NewCmdPipeline(ios, func(o *PipelineOptions) error { opts = o; return nil })
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err != nil || opts == nil {
		t.Fatalf("pipeline %v: %v", args, err)
	}
	tinyStages(&opts.PipelineOptions)
	err := runPipeline(opts)
	code := 0
	if err != nil {
		errOut.WriteString("spikebridge: " + err.Error() + "\n")
		code = 1
		var ue usageError
		if errors.As(err, &ue) {
			code = 2
		}
	}
	return code, out.String(), errOut.String()
}

func TestPipelineEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := runTinyPipeline(t, "--out", dir, "--seed", "3", "--steps", "3000", "--episodes", "3",
		"--timesteps", "8,16", "--json")
	if code != 0 {
		t.Fatalf("pipeline: exit %d\n%s", code, errOut)
	}
	var res workflow.PipelineResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	// Every stage announced itself and was timed.
	wantStages := []string{"train dqn", "record", "convert baseline", "convert distill", "compare baseline", "compare distill", "report"}
	if len(res.Stages) != len(wantStages) {
		t.Fatalf("stages %+v, want %v", res.Stages, wantStages)
	}
	for i, st := range res.Stages {
		if st.Name != wantStages[i] || st.WallS < 0 || !strings.Contains(errOut, "] "+st.Name+": ") {
			t.Errorf("stage %d: %+v (want %q announced on stderr)", i, st, wantStages[i])
		}
	}
	if res.Train == nil || res.Train.Steps != 3000 || res.Train.Seed != 3 {
		t.Fatalf("train result %+v", res.Train)
	}

	// Files parse.
	ann, _, err := formats.LoadModel(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	states, _, err := workflow.LoadStates(filepath.Join(dir, "states.npz"), ann.InputSize())
	if err != nil || states.Rows() != res.Record.States || res.Record.Episodes != 60 {
		t.Errorf("states.npz: %v, %d rows, record %+v", err, states.Rows(), res.Record)
	}
	for _, name := range []string{"snn-baseline.safetensors", "snn-distill.safetensors"} {
		s, meta, err := formats.LoadSNN(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.TrimSuffix(strings.TrimPrefix(name, "snn-"), ".safetensors"); meta.Provenance.Settings["method"] != want || s.Layers[0].In != 4 {
			t.Errorf("%s: method %q, %d inputs", name, meta.Provenance.Settings["method"], s.Layers[0].In)
		}
	}
	if _, _, err := formats.LoadModel(filepath.Join(dir, workflow.PipelineStudentFile)); err != nil {
		t.Error(err)
	}
	metrics := readCSV(t, filepath.Join(dir, "metrics.csv"))
	if len(metrics) < 2 {
		t.Errorf("metrics.csv: %d rows", len(metrics))
	}
	rows := readCSV(t, filepath.Join(dir, "compare.csv"))
	if len(rows) != 1+2*2 || strings.Join(rows[0], ",") != strings.Join(workflow.PipelineCSVHeader, ",") {
		t.Errorf("compare.csv: %d rows, header %v", len(rows), rows[0])
	}
	for _, png := range []string{report.FigureLearningCurve, report.FigureReturn, report.FigureAgreement, report.FigureQScatter,
		report.FigureRaster, "compare-baseline/agreement_vs_T.png", "compare-distill/spike_raster.png"} {
		checkPNG(t, filepath.Join(dir, png))
	}

	// compare.json: the best method's figures at the top, both methods listed.
	var doc workflow.PipelineCompareDoc
	data, err := os.ReadFile(filepath.Join(dir, "compare.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.BestMethod != "distill" || len(doc.Methods) != 2 || doc.Comparison == nil || len(doc.Results) != 2 {
		t.Fatalf("compare.json: best %q, %d methods, %+v", doc.BestMethod, len(doc.Methods), doc.Comparison)
	}
	// The ANN's returns, replayed independently on the same initial states.
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	init, err := convert.InitialStates(e, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	played, err := env.Run(e, model.NewQPolicy(ann), env.RunOptions{InitStates: init})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range played.Returns {
		if doc.ANN.Returns[i] != r {
			t.Errorf("ANN return %d: compare.json %v, replayed %v", i, doc.ANN.Returns[i], r)
		}
	}
	for _, m := range doc.Methods {
		if len(m.Results) != 2 || m.Results[0].Timesteps != 8 || m.Results[1].Timesteps != 16 {
			t.Fatalf("%s: results %+v", m.Method, m.Results)
		}
		for _, r := range m.Results {
			for name, v := range map[string]float64{"agreement_own": r.AgreementOwn, "agreement_fixed": r.AgreementFixed,
				"agreement_decisive": r.AgreementDecisive} {
				if !(v >= 0 && v <= 1) {
					t.Errorf("%s T=%d: %s = %v", m.Method, r.Timesteps, name, v)
				}
			}
			if !(r.SNNReturnsMean >= 1 && r.SNNReturnsMean <= 500) || r.SpikesPerDecision <= 0 || r.ANNMACsPerDecision != ann.MACs() {
				t.Errorf("%s T=%d: return %v, spikes %v, MACs %d", m.Method, r.Timesteps, r.SNNReturnsMean, r.SpikesPerDecision, r.ANNMACsPerDecision)
			}
			if (m.Method == "distill") != (r.AgreementSource != nil) {
				t.Errorf("%s T=%d: agreement_source %v", m.Method, r.Timesteps, r.AgreementSource)
			}
		}
	}
	if math.Abs(doc.Results[1].SNNReturnsMean-doc.Methods[1].Results[1].SNNReturnsMean) != 0 {
		t.Error("top-level results are not the best method's")
	}

	// The report shows the table and links every figure.
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(" + report.FigureReturn + ")", "(" + report.FigureAgreement + ")", "(" + report.FigureLearningCurve + ")",
		"(" + report.FigureQScatter + ")", "(" + report.FigureRaster + ")", "| distill | 16 | ", "| baseline | 8 | ",
		"trained here with DQN for 3000 environment steps (seed 3)", "spikebridge train dqn --env cartpole-v1 --steps 3000"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	row := "| distill | 8 | " + strconv.FormatFloat(doc.Results[0].SNNReturnsMean, 'f', 1, 64) + " ± "
	if !bytes.Contains(md, []byte(row)) {
		t.Errorf("report.md lacks %q", row)
	}

	// A second run into the same directory is refused, and changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	code, _, errOut = runTinyPipeline(t, "--out", dir, "--steps", "3000")
	if code != 2 || !strings.Contains(errOut, "is not empty") {
		t.Errorf("rerun into a full --out: exit %d, %s", code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "report.md")); !bytes.Equal(before, after) {
		t.Error("a refused run changed report.md")
	}

	// --resume continues the finished training from its checkpoint and redoes
	// the later stages: deterministic, so every file comes out the same.
	files := []string{"model.safetensors", "states.npz", "snn-baseline.safetensors", "snn-distill.safetensors",
		workflow.PipelineStudentFile, "compare.json", "compare.csv"}
	first := map[string][]byte{}
	for _, f := range files {
		first[f] = readDQNFile(t, filepath.Join(dir, f))
	}
	code, _, errOut = runTinyPipeline(t, "--out", dir, "--seed", "3", "--steps", "3000", "--episodes", "3",
		"--timesteps", "8,16", "--resume")
	if code != 0 || !strings.Contains(errOut, "--resume") {
		t.Fatalf("--resume: exit %d\n%s", code, errOut)
	}
	for _, f := range files {
		if !bytes.Equal(first[f], readDQNFile(t, filepath.Join(dir, f))) {
			t.Errorf("%s differs after --resume", f)
		}
	}
}

func TestPipelineFromPyTorch(t *testing.T) {
	policy := testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed2.pt")
	dir := filepath.Join(t.TempDir(), "imported")
	code, out, errOut := runTinyPipeline(t, "--from-pytorch", policy, "--out", dir, "--episodes", "2", "--timesteps", "8")
	if code != 0 {
		t.Fatalf("pipeline --from-pytorch: exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, "train dqn") {
		t.Error("an imported network was trained")
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.csv")); !os.IsNotExist(err) {
		t.Errorf("metrics.csv of an imported run: %v", err)
	}
	if !strings.Contains(out, "ANN imported from "+policy) || !strings.Contains(out, "report.md") {
		t.Errorf("summary:\n%s", out)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !bytes.Contains(md, []byte("Imported from `"+policy+"`")) || bytes.Contains(md, []byte(report.FigureLearningCurve)) {
		t.Errorf("report.md (%v):\n%s", err, md)
	}
	// The imported weights are the fixture's, bit for bit: its expected Q.
	ann, _, err := formats.LoadModel(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := formats.ReadNPZ(testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed2_expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	obs, q := exp["states"].Float32s(), exp["q"].Float32s()
	got := make([]float32, 2)
	ws := ann.NewWorkspace(1)
	for i := 0; i < 10; i++ {
		ann.Forward(got, obs[4*i:4*i+4], ws)
		if got[0] != q[2*i] || got[1] != q[2*i+1] {
			t.Fatalf("state %d: Q %v, torch %v", i, got, q[2*i:2*i+2])
		}
	}
}

func TestPipelineStageFailure(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pt")
	if err := os.WriteFile(bad, []byte("not a pickle"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runTinyPipeline(t, "--from-pytorch", bad, "--out", dir)
	if code != 1 || !strings.Contains(errOut, `pipeline stage "import" failed`) || !strings.Contains(errOut, bad) {
		t.Errorf("bad --from-pytorch: exit %d, %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); !os.IsNotExist(err) {
		t.Errorf("a failed import left model.safetensors: %v", err)
	}
	for _, args := range [][]string{
		{"--timesteps", "0", "--out", dir},
		{"--episodes", "0", "--out", dir},
		{"--force", "--resume", "--out", dir},
	} {
		if code, _, errOut := runCLI(t, append([]string{"pipeline"}, args...)...); code != 2 {
			t.Errorf("pipeline %v: exit %d, %s", args, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "pipeline", "--from-pytorch", bad, "--steps", "10"); code != 2 || !strings.Contains(errOut, "exclude") {
		t.Errorf("--steps with --from-pytorch: exit %d, %s", code, errOut)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 300 {
		t.Errorf("%s: %v pixels", path, b)
	}
}
