package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/train"
)

// The stages' command lines, built from the typed options, are the ones
// the CLI's pipeline has always shown (copied from a report.md of the
// argv-based pipeline: `pipeline --out pipe --seed 1 --steps 3000
// --episodes 5 --timesteps 4,8`).
func TestPipelineStageCommands(t *testing.T) {
	tr := TrainDQNOptions{Config: train.DefaultConfig(), Out: "pipe"}
	tr.Config.Env, tr.Config.Steps, tr.Config.Seed = "cartpole-v1", 3000, 1
	dist := DefaultConvertOptions()
	dist.Model, dist.Calib, dist.Out, dist.StudentOut = "pipe/model.safetensors", "pipe/states.npz", "pipe/snn-distill.safetensors", "pipe/student-distill.safetensors"
	dist.Classifier.Seed = 1
	base := dist
	base.Method, base.Out, base.Timesteps = MethodBaseline, "pipe/snn-baseline.safetensors", 64
	for _, c := range []struct{ got, want string }{
		{trainCommand(tr), "spikebridge train dqn --env cartpole-v1 --steps 3000 --seed 1 --out pipe"},
		{recordCommand(RecordOptions{Model: "pipe/model.safetensors", Env: "cartpole-v1", Episodes: 60, Seed: 1, Epsilon: 0.2, Out: "pipe/states.npz"}),
			"spikebridge record --model pipe/model.safetensors --env cartpole-v1 --episodes 60 --seed 1 --epsilon 0.2 -o pipe/states.npz"},
		{convertCommand(base), "spikebridge convert --model pipe/model.safetensors --calib pipe/states.npz --method baseline -o pipe/snn-baseline.safetensors --timesteps 64"},
		{convertCommand(dist), "spikebridge convert --model pipe/model.safetensors --calib pipe/states.npz --method distill -o pipe/snn-distill.safetensors --env cartpole-v1 --seed 1 --student-out pipe/student-distill.safetensors"},
		{compareCommand(CompareOptions{ANN: "pipe/model.safetensors", SNN: "pipe/snn-distill.safetensors", Source: "pipe/student-distill.safetensors",
			Env: "cartpole-v1", Episodes: 5, Seed: 1, Timesteps: []int{4, 8}, Out: "pipe/compare-distill"}),
			"spikebridge compare --ann pipe/model.safetensors --snn pipe/snn-distill.safetensors --env cartpole-v1 --episodes 5 --seed 1 --timesteps 4,8 --out pipe/compare-distill --source pipe/student-distill.safetensors"},
		{importCommand(ImportPyTorchOptions{Input: "my policy.pt", Output: "p/model.safetensors", Head: "critic"}),
			`spikebridge import pytorch "my policy.pt" -o p/model.safetensors --json --head critic`},
	} {
		if c.got != c.want {
			t.Errorf("command\n got %s\nwant %s", c.got, c.want)
		}
	}
}

// The typed jobs chained by hand: record, convert (baseline) and compare
// write the files the verbs write, and their results agree with the files.
func TestRecordConvertCompare(t *testing.T) {
	policy := testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed2.pt")
	dir := t.TempDir()
	states, snnFile, cmpDir := filepath.Join(dir, "states.npz"), filepath.Join(dir, "snn.safetensors"), filepath.Join(dir, "cmp")
	if _, err := Record(RecordOptions{Model: policy, Env: "cartpole-v1", Episodes: 2, Seed: 1, Epsilon: 0.2, Out: states}); err != nil {
		t.Fatal(err)
	}
	c := DefaultConvertOptions()
	c.Model, c.Calib, c.Method, c.Timesteps, c.Out = policy, states, MethodBaseline, 32, snnFile
	res, err := Convert(c)
	if err != nil {
		t.Fatal(err)
	}
	s, meta, err := formats.LoadSNN(snnFile)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := formats.LoadANN(policy)
	if err != nil {
		t.Fatal(err)
	}
	calib, _, err := LoadStates(states, 4)
	if err != nil {
		t.Fatal(err)
	}
	agree, err := convert.Agreement(ann, s, calib, 32)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Provenance.Settings["method"] != "baseline" || meta.Provenance.Settings["percentile"] != "99.9" ||
		res.AgreementModel != agree || res.States != calib.Rows() || res.Sizes != s.String() {
		t.Errorf("convert: settings %v, result %+v; the file's SNN agrees on %v of %d states", meta.Provenance.Settings, res, agree, calib.Rows())
	}

	doc, err := Compare(CompareOptions{ANN: policy, SNN: snnFile, Env: "cartpole-v1", Episodes: 2, Seed: 3, Timesteps: []int{8, 16},
		DecisiveMargin: DefaultDecisiveMargin, Out: cmpDir})
	if err != nil {
		t.Fatal(err)
	}
	want, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(cmpDir, CompareJSONFile))
	if err != nil || !bytes.Equal(onDisk, want) {
		t.Errorf("compare.json (%v) is not the returned document", err)
	}
	var back CompareDoc
	if err := json.Unmarshal(onDisk, &back); err != nil || len(back.Results) != 2 || back.Results[1].Timesteps != 16 || back.SNNFile != snnFile {
		t.Errorf("compare.json: %v, %+v", err, back)
	}
	for _, f := range []string{CompareCSVFile, CompareAgreementPNG, CompareReturnPNG, CompareQScatterPNG, CompareSpikeRaster} {
		if st, err := os.Stat(filepath.Join(cmpDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Option errors of the jobs name the options (Go field names) and values.
func TestJobOptionErrors(t *testing.T) {
	dir := t.TempDir()
	bad := DefaultConvertOptions()
	bad.Method, bad.Out = "magic", filepath.Join(dir, "x.safetensors")
	_, errConvert := Convert(bad)
	_, errCompare := Compare(CompareOptions{Episodes: 3, InitStates: "init.npz", Timesteps: []int{8}, Out: dir})
	_, _, errTrain := TrainDQN(t.Context(), TrainDQNOptions{Config: train.DefaultConfig(), Out: dir, Resume: true})
	_, errImport := ImportPyTorch(ImportPyTorchOptions{Input: "x.pt", Output: "y", Layout: "sideways"})
	_, errPipeline := Pipeline(PipelineOptions{Out: dir, Timesteps: []int{8}, Episodes: 1, Force: true, Resume: true})
	for _, c := range []struct {
		err  error
		want string
	}{
		{errConvert, `Method "magic": want distill, baseline, neuron or calibrate`},
		{errCompare, "Episodes and InitStates exclude each other"},
		{errTrain, "Resume: " + dir + " holds no checkpoint"},
		{errImport, `Layout "sideways": want out-in or in-out`},
		{errPipeline, "Force and Resume exclude each other"},
	} {
		var oe *OptionError
		if !errors.As(c.err, &oe) || !oe.Invalid || !strings.HasPrefix(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "--") {
			t.Errorf("%v: want an invalid-option error starting %q", c.err, c.want)
		}
	}
}

// The pipeline as a Go program runs it: an imported policy through every
// stage, each announced with its command; a failing stage is a StageError
// naming the stage and the file, and a spiking model file is refused.
func TestPipelineTyped(t *testing.T) {
	policy := testfixtures.Dir(t, "policies", "torch_dqn_cartpole_seed2.pt")
	distill := DefaultConvertOptions()
	distill.Classifier.Epochs, distill.Classifier.Hidden = 2, []int{8}
	distill.DaggerRounds, distill.DaggerEpisodes, distill.DaggerEpochs, distill.TeacherEpisodes = 0, 1, 1, 0
	opts := DefaultPipelineOptions()
	opts.Out, opts.FromPyTorch, opts.Episodes, opts.Timesteps, opts.Distill = filepath.Join(t.TempDir(), "run"), policy, 2, []int{8}, &distill
	var announced []string
	opts.OnStage = func(n, stages int, name, command string) {
		if stages != PipelineStages || n != len(announced)+1 {
			t.Errorf("stage %q announced as %d of %d", name, n, stages)
		}
		announced = append(announced, command)
	}
	res, err := Pipeline(opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stages) != PipelineStages || len(announced) != PipelineStages || res.Train != nil || res.Imported != policy || res.BestMethod != MethodDistill {
		t.Fatalf("result %+v, announced %q", res, announced)
	}
	for i, st := range res.Stages {
		if st.Command != announced[i] {
			t.Errorf("stage %s: command %q, announced %q", st.Name, st.Command, announced[i])
		}
	}
	if want := "spikebridge import pytorch " + policy + " -o " + res.ModelFile + " --json"; res.Stages[0].Command != want {
		t.Errorf("import command %q, want %q", res.Stages[0].Command, want)
	}
	for _, f := range []string{DQNModelFile, PipelineStatesFile, "snn-baseline.safetensors", "snn-distill.safetensors", PipelineStudentFile,
		CompareJSONFile, CompareCSVFile, PipelineReportFile, "compare-distill/" + CompareJSONFile} {
		if _, err := os.Stat(filepath.Join(opts.Out, f)); err != nil {
			t.Error(err)
		}
	}
	if res.Compare.Comparison != res.Compare.Methods[1].comparison || len(res.Compare.Results) != 1 {
		t.Errorf("compare.json's top level is not distill's comparison")
	}

	bad := filepath.Join(t.TempDir(), "bad.pt")
	if err := os.WriteFile(bad, []byte("not a pickle"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Out, opts.FromPyTorch, opts.OnStage = filepath.Join(t.TempDir(), "bad"), bad, nil
	_, err = Pipeline(opts)
	var stage *StageError
	if !errors.As(err, &stage) || stage.Stage != "import" || stage.Out != opts.Out || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad import: %v, want a StageError of stage import naming %s", err, bad)
	}
	opts.FromPyTorch = filepath.Join(filepath.Dir(res.ModelFile), "snn-distill.safetensors")
	var oe *OptionError
	if _, err := Pipeline(opts); !errors.As(err, &oe) || !oe.Invalid || !strings.HasPrefix(err.Error(), "FromPyTorch "+opts.FromPyTorch) {
		t.Errorf("spiking model file: %v, want an OptionError naming FromPyTorch", err)
	}
}

// A Go program runs the CLI's jobs with typed options; this is `spikebridge
// record` then `convert --method baseline --timesteps 64` then `compare`.
func ExampleConvert() {
	rec, err := Record(RecordOptions{Model: "policy.pt", Env: "cartpole-v1", Episodes: 60, Seed: 1, Epsilon: 0.2, Out: "states.npz"})
	if err != nil {
		log.Fatal(err)
	}
	c := DefaultConvertOptions()
	c.Model, c.Calib, c.Method, c.Timesteps, c.Out = "policy.pt", rec.Out, MethodBaseline, 64, "snn.safetensors"
	if _, err := Convert(c); err != nil {
		log.Fatal(err) // an *OptionError names the option: Method, Timesteps, ...
	}
	doc, err := Compare(CompareOptions{ANN: "policy.pt", SNN: c.Out, Env: "cartpole-v1", Episodes: 100,
		Timesteps: []int{8, 16, 32, 64}, DecisiveMargin: DefaultDecisiveMargin, Out: "cmp"})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range doc.Results {
		fmt.Printf("T=%d: return %.1f, own-trajectory agreement %.3f\n", r.Timesteps, r.SNNReturnsMean, r.AgreementOwn)
	}
}
