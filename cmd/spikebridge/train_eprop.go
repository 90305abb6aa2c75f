package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/report"
)

// Files of an e-prop run directory.
const (
	epropModelFile      = "model.eprop.safetensors"
	epropCheckpointFile = "checkpoint.npz"
	epropConfigFile     = "config.json"
	epropMetricsFile    = "metrics.csv"
	epropCurveFile      = "learning_curve.png"
	epropRasterFile     = "raster.png"
)

// TrainEpropOptions holds the flags of `spikebridge train eprop`.
type TrainEpropOptions struct {
	IO              *IOStreams
	Config          learn.EvidenceRunConfig
	Task            string
	EvalTrials      int
	CheckpointEvery int
	Out             string
	Resume, Force   bool
	JSON            bool
	// progressEvery is how often progress lines appear.
	progressEvery time.Duration
}

// EpropResult is the --json document of `train eprop`.
type EpropResult struct {
	Task               string  `json:"task"`
	Seed               uint64  `json:"seed"`
	Iterations         int     `json:"iterations"`
	Batch              int     `json:"batch"`
	Neurons            int     `json:"neurons"`
	FinalLoss          float64 `json:"final_loss"`
	FinalBatchAccuracy float64 `json:"final_batch_accuracy"`
	EvalTrials         int     `json:"eval_trials"`
	EvalAccuracy       float64 `json:"eval_accuracy"`
	EvalLoss           float64 `json:"eval_loss"`
	SpikesPerTrial     float64 `json:"spikes_per_trial"`
	SynOpsPerTrial     float64 `json:"synops_per_trial"`
	MsPerIteration     float64 `json:"ms_per_iteration"`
	TrainWallS         float64 `json:"train_wall_s"`
	ResumedAt          int     `json:"resumed_at,omitempty"`
	PeakHeapMiB        float64 `json:"peak_heap_mib"`
	Gradient           string  `json:"gradient"`
	Out                string  `json:"out"`
}

// NewCmdTrainEprop parses flags into TrainEpropOptions; runF replaces
// runTrainEprop in tests.
func NewCmdTrainEprop(ios *IOStreams, runF func(*TrainEpropOptions) error) *cobra.Command {
	opts := &TrainEpropOptions{IO: ios, Config: learn.DefaultEvidenceRun(), Task: "evidence-accumulation",
		EvalTrials: 512, CheckpointEvery: 10, progressEvery: 10 * time.Second}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "eprop",
		Short: "Train a recurrent spiking network (LIF + adaptive LIF) by e-prop, exact to NEST's eprop_*_bsshslm_2020",
		Long: `Train a recurrent network of LIF and adaptive-threshold LIF neurons with two leaky
softmax readouts on the evidence-accumulation task (Bellec et al. 2020) by e-prop with
fixed random feedback, firing-rate regularisation and Adam, as NEST 3.7/3.8's
eprop_iaf_bsshslm_2020 / eprop_iaf_adapt_bsshslm_2020 / eprop_readout_bsshslm_2020 do
(on NEST's test case the losses agree to 1.5e-12). The defaults are NEST's network and
task at batch 32. --gradient bptt trains the same network on the same trials with the
exact surrogate gradient (backpropagation through time) instead, to compare the two.

Outputs in --out: model.eprop.safetensors (float64 weights, feedback and neuron
parameters), metrics.csv (one row per iteration), learning_curve.png, raster.png (one
fresh trial), config.json and checkpoint.npz (for --resume).`,
		Example: "  spikebridge train eprop --task evidence-accumulation --iterations 200 --batch 32 --seed 1 --out runs/eprop-s1",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			if opts.Task != "evidence-accumulation" {
				return usageErrorf("--task %q: the only task is evidence-accumulation", opts.Task)
			}
			if opts.EvalTrials < 1 || opts.EvalTrials > 1<<16 {
				return usageErrorf("--eval-trials %d: want 1 to %d", opts.EvalTrials, 1<<16)
			}
			if opts.CheckpointEvery < 1 {
				return usageErrorf("--checkpoint-every %d: want at least 1", opts.CheckpointEvery)
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrainEprop(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Task, "task", opts.Task, "task: evidence-accumulation")
	f.IntVar(&c.Iterations, "iterations", c.Iterations, "training iterations (one batch each)")
	f.IntVar(&c.Batch, "batch", c.Batch, "trials per iteration")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initial weights, the training trials and the evaluation trials")
	f.IntVar(&c.Network.LIF, "lif", c.Network.LIF, "LIF neurons")
	f.IntVar(&c.Network.ALIF, "alif", c.Network.ALIF, "adaptive-threshold LIF neurons")
	f.Float64Var(&c.Eprop.LearningRate, "learning-rate", c.Eprop.LearningRate, "Adam step size")
	f.Float64Var(&c.Eprop.RegStrength, "reg", c.Eprop.RegStrength, "firing-rate regularisation strength c_reg")
	f.IntVar(&c.Task.Cues, "cues", c.Task.Cues, "cues per trial")
	f.IntVar(&c.Task.BackgroundSteps, "background-steps", c.Task.BackgroundSteps, "steps of background between the last cue and the recall")
	f.StringVar((*string)(&c.Eprop.Gradient), "gradient", string(learn.GradientEprop), "weight gradient: eprop (NEST's e-prop) or bptt (surrogate-gradient BPTT of the same network and loss, for comparison)")
	f.IntVar(&c.Eprop.Workers, "workers", 0, "goroutines simulating the trials of a batch (0: all CPUs); results do not depend on it")
	f.IntVar(&opts.EvalTrials, "eval-trials", opts.EvalTrials, "fresh trials for the final accuracy (and at every checkpoint)")
	f.IntVar(&opts.CheckpointEvery, "checkpoint-every", opts.CheckpointEvery, "iterations between checkpoints")
	f.StringVar(&opts.Out, "out", "", "run directory (required)")
	f.BoolVar(&opts.Resume, "resume", false, "continue the run in --out from its checkpoint (only --iterations may change)")
	f.BoolVar(&opts.Force, "force", false, "overwrite an existing run in --out")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

// epropRunConfig is config.json: the run's settings and the verb's own.
type epropRunConfig struct {
	learn.EvidenceRunConfig
	EvalTrials      int `json:"eval_trials"`
	CheckpointEvery int `json:"checkpoint_every"`
}

// epropEval is an evaluation on fresh trials made at a checkpoint.
type epropEval struct {
	Iteration int
	Accuracy  float64
}

func runTrainEprop(opts *TrainEpropOptions) error {
	cfg := opts.Config
	cfg.Eprop.LossWindow = cfg.Task.RecallSteps
	var run *learn.EvidenceRun
	var evals []epropEval
	var err error
	resumedAt := 0
	if opts.Resume {
		var saved epropRunConfig
		if run, evals, saved, err = resumeEpropRun(opts.Out, cfg.Iterations, cfg.Eprop.Workers); err != nil {
			return err
		}
		opts.EvalTrials, opts.CheckpointEvery = saved.EvalTrials, saved.CheckpointEvery
		cfg = run.Config
		resumedAt = run.Iteration
	} else {
		if err := cfg.Validate(); err != nil {
			return usageError{err}
		}
		if _, err := os.Stat(filepath.Join(opts.Out, epropConfigFile)); err == nil && !opts.Force {
			return fmt.Errorf("%s already holds a run (%s): pass --resume to continue it or --force to overwrite it", opts.Out, epropConfigFile)
		}
		if run, err = learn.NewEvidenceRun(cfg); err != nil {
			return err
		}
		if err := os.MkdirAll(opts.Out, 0o755); err != nil {
			return err
		}
		if err := writeEpropJSON(filepath.Join(opts.Out, epropConfigFile), epropRunConfig{cfg, opts.EvalTrials, opts.CheckpointEvery}); err != nil {
			return err
		}
	}
	errOut := opts.IO.ErrOut
	start := time.Now()
	lastProgress := start
	trainSeconds := 0.0
	var peak runtime.MemStats
	for run.Iteration < cfg.Iterations {
		rec, err := run.Step()
		if err != nil {
			return err
		}
		trainSeconds += rec.Seconds
		if run.Iteration%opts.CheckpointEvery == 0 || run.Iteration == cfg.Iterations {
			res, err := run.EvaluateFresh(opts.EvalTrials)
			if err != nil {
				return err
			}
			evals = append(evals, epropEval{run.Iteration, res.Accuracy})
			if err := saveEpropCheckpoint(opts.Out, run, evals); err != nil {
				return err
			}
			fmt.Fprintf(errOut, "train eprop: iteration %d/%d: loss %.4f, batch accuracy %.3f, fresh-trial accuracy %.3f (%d trials), %.1f spikes/trial, %.0f ms/iteration\n",
				run.Iteration, cfg.Iterations, rec.Loss, rec.Accuracy, res.Accuracy, opts.EvalTrials, rec.SpikesPerTrial, 1000*trainSeconds/float64(run.Iteration-resumedAt))
			lastProgress = time.Now()
		} else if time.Since(lastProgress) >= opts.progressEvery {
			fmt.Fprintf(errOut, "train eprop: iteration %d/%d: loss %.4f, batch accuracy %.3f\n", run.Iteration, cfg.Iterations, rec.Loss, rec.Accuracy)
			lastProgress = time.Now()
		}
	}
	runtime.ReadMemStats(&peak)
	final, err := run.EvaluateFresh(opts.EvalTrials)
	if err != nil {
		return err
	}
	if err := writeEpropOutputs(opts.Out, run, evals); err != nil {
		return err
	}
	if err := saveEpropCheckpoint(opts.Out, run, evals); err != nil {
		return err
	}
	res := EpropResult{
		Task: opts.Task, Seed: cfg.Seed, Iterations: run.Iteration, Batch: cfg.Batch, Neurons: run.Trainer.Net.Neurons,
		EvalTrials: opts.EvalTrials, EvalAccuracy: final.Accuracy, EvalLoss: final.Loss,
		SpikesPerTrial: float64(final.Spikes) / float64(opts.EvalTrials), SynOpsPerTrial: float64(final.SynOps) / float64(opts.EvalTrials),
		TrainWallS: trainSeconds, ResumedAt: resumedAt, PeakHeapMiB: float64(peak.HeapSys) / (1 << 20), Out: opts.Out,
		Gradient: string(cfg.Eprop.Gradient),
	}
	if n := run.Iteration - resumedAt; n > 0 {
		res.MsPerIteration = 1000 * trainSeconds / float64(n)
	}
	if h := run.History; len(h) > 0 {
		res.FinalLoss, res.FinalBatchAccuracy = h[len(h)-1].Loss, h[len(h)-1].Accuracy
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(res)
	}
	_, err = fmt.Fprintf(opts.IO.Out,
		"seed %d: %d iterations of batch %d, %.1f ms/iteration, train wall %.1f s; recall accuracy on %d fresh trials %.3f (loss %.4f), %.0f spikes and %.0f SynOps per trial\noutputs in %s\n",
		res.Seed, res.Iterations, res.Batch, res.MsPerIteration, res.TrainWallS, res.EvalTrials, res.EvalAccuracy, res.EvalLoss,
		res.SpikesPerTrial, res.SynOpsPerTrial, opts.Out)
	return err
}

func writeEpropJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// saveEpropCheckpoint writes the weights, feedback, Adam state, history and
// evaluations to checkpoint.npz (float64, exact), then metrics.csv.
func saveEpropCheckpoint(dir string, run *learn.EvidenceRun, evals []epropEval) error {
	tr := run.Trainer
	net := tr.Net
	N, In, K := net.Neurons, net.Inputs, net.Outputs
	hist := run.History
	cols := func(get func(learn.IterationRecord) float64) []float64 {
		out := make([]float64, len(hist))
		for i, h := range hist {
			out[i] = get(h)
		}
		return out
	}
	evalIt, evalAcc := make([]float64, len(evals)), make([]float64, len(evals))
	for i, e := range evals {
		evalIt[i], evalAcc[i] = float64(e.Iteration), e.Accuracy
	}
	arrays := []*formats.Array{
		formats.NewInt64Array("iteration", nil, []int{run.Iteration}),
		formats.NewInt64Array("adam_step", nil, []int{tr.AdamStep}),
		formats.NewFloat64Array("w_in", []int{N, In}, net.InputWeights),
		formats.NewFloat64Array("w_rec", []int{N, N}, net.RecurrentWeights),
		formats.NewFloat64Array("w_out", []int{K, N}, net.OutputWeights),
		formats.NewFloat64Array("b_feedback", []int{N, K}, tr.Feedback),
		formats.NewFloat64Array("m_in", []int{N, In}, tr.MomentInput),
		formats.NewFloat64Array("m_rec", []int{N, N}, tr.MomentRecurrent),
		formats.NewFloat64Array("m_out", []int{K, N}, tr.MomentOutput),
		formats.NewFloat64Array("v_in", []int{N, In}, tr.VarianceInput),
		formats.NewFloat64Array("v_rec", []int{N, N}, tr.VarianceRecurr),
		formats.NewFloat64Array("v_out", []int{K, N}, tr.VarianceOutput),
		formats.NewFloat64Array("loss", []int{len(hist)}, cols(func(h learn.IterationRecord) float64 { return h.Loss })),
		formats.NewFloat64Array("accuracy", []int{len(hist)}, cols(func(h learn.IterationRecord) float64 { return h.Accuracy })),
		formats.NewFloat64Array("spikes_per_trial", []int{len(hist)}, cols(func(h learn.IterationRecord) float64 { return h.SpikesPerTrial })),
		formats.NewFloat64Array("synops_per_trial", []int{len(hist)}, cols(func(h learn.IterationRecord) float64 { return h.SynOpsPerTrial })),
		formats.NewFloat64Array("seconds", []int{len(hist)}, cols(func(h learn.IterationRecord) float64 { return h.Seconds })),
		formats.NewFloat64Array("eval_iteration", []int{len(evals)}, evalIt),
		formats.NewFloat64Array("eval_accuracy", []int{len(evals)}, evalAcc),
	}
	if err := formats.WriteNPZ(filepath.Join(dir, epropCheckpointFile), arrays); err != nil {
		return err
	}
	return writeEpropMetrics(filepath.Join(dir, epropMetricsFile), hist, evals)
}

func writeEpropMetrics(path string, hist []learn.IterationRecord, evals []epropEval) error {
	fresh := map[int]float64{}
	for _, e := range evals {
		fresh[e.Iteration] = e.Accuracy
	}
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		if _, err := fmt.Fprintln(w, "iteration,loss,batch_accuracy,fresh_accuracy,spikes_per_trial,synops_per_trial,seconds"); err != nil {
			return err
		}
		for _, h := range hist {
			acc := ""
			if a, ok := fresh[h.Iteration+1]; ok {
				acc = strconv.FormatFloat(a, 'g', -1, 64)
			}
			if _, err := fmt.Fprintf(w, "%d,%.17g,%g,%s,%g,%g,%.6f\n", h.Iteration+1, h.Loss, h.Accuracy, acc, h.SpikesPerTrial, h.SynOpsPerTrial, h.Seconds); err != nil {
				return err
			}
		}
		return nil
	})
}

// resumeEpropRun rebuilds a run from config.json and checkpoint.npz; only
// the iteration count (and the worker count, which changes no result) may
// differ from the saved run.
func resumeEpropRun(dir string, iterations, workers int) (*learn.EvidenceRun, []epropEval, epropRunConfig, error) {
	var saved epropRunConfig
	cfgPath := filepath.Join(dir, epropConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, nil, saved, fmt.Errorf("--resume: %w", err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, nil, saved, fmt.Errorf("--resume: %s: %w", cfgPath, err)
	}
	if saved.EvalTrials < 1 || saved.CheckpointEvery < 1 {
		return nil, nil, saved, fmt.Errorf("--resume: %s: eval_trials %d and checkpoint_every %d, want at least 1", cfgPath, saved.EvalTrials, saved.CheckpointEvery)
	}
	cfg := saved.EvidenceRunConfig
	cfg.Iterations = iterations
	cfg.Eprop.Workers = workers
	ckPath := filepath.Join(dir, epropCheckpointFile)
	arrays, err := formats.ReadNPZ(ckPath)
	if err != nil {
		return nil, nil, saved, fmt.Errorf("--resume: %w", err)
	}
	N, In, K := cfg.Network.LIF+cfg.Network.ALIF, cfg.Task.Inputs, 2
	get := func(name string, n int) ([]float64, error) {
		a := arrays[name]
		if a == nil {
			return nil, fmt.Errorf("--resume: %s: no array %q", ckPath, name)
		}
		if len(a.Data) != n {
			return nil, fmt.Errorf("--resume: %s: array %q has %d values, want %d", ckPath, name, len(a.Data), n)
		}
		return a.Data, nil
	}
	scalar := func(name string) (int, error) {
		v, err := get(name, 1)
		if err != nil {
			return 0, err
		}
		return int(v[0]), nil
	}
	done, err := scalar("iteration")
	if err != nil {
		return nil, nil, saved, err
	}
	step, err := scalar("adam_step")
	if err != nil {
		return nil, nil, saved, err
	}
	if done < 0 || done > cfg.Iterations {
		return nil, nil, saved, fmt.Errorf("--resume: %s is at iteration %d; --iterations %d must be at least that", ckPath, done, cfg.Iterations)
	}
	shapes := map[string]int{"w_in": N * In, "w_rec": N * N, "w_out": K * N, "b_feedback": N * K,
		"m_in": N * In, "m_rec": N * N, "m_out": K * N, "v_in": N * In, "v_rec": N * N, "v_out": K * N,
		"loss": done, "accuracy": done, "spikes_per_trial": done, "synops_per_trial": done, "seconds": done}
	vals := map[string][]float64{}
	for name, n := range shapes {
		if vals[name], err = get(name, n); err != nil {
			return nil, nil, saved, err
		}
	}
	for _, name := range []string{"m_in", "m_rec", "m_out", "v_in", "v_rec", "v_out"} {
		for i, v := range vals[name] {
			if math.IsNaN(v) || math.IsInf(v, 0) || (name[0] == 'v' && v < 0) {
				return nil, nil, saved, fmt.Errorf("--resume: %s: array %q element %d is %v, want a finite Adam moment (second moments 0 or more)", ckPath, name, i, v)
			}
		}
	}
	net, _, err := cfg.Network.New(rand.New(rand.NewPCG(0, 0)), In, K) // shape and parameters; weights replaced below
	if err != nil {
		return nil, nil, saved, err
	}
	net.InputWeights, net.RecurrentWeights, net.OutputWeights = vals["w_in"], vals["w_rec"], vals["w_out"]
	if err := net.Validate(); err != nil {
		return nil, nil, saved, fmt.Errorf("--resume: %s: %w", ckPath, err)
	}
	run, err := learn.ResumeEvidenceRun(cfg, net, vals["b_feedback"], done)
	if err != nil {
		return nil, nil, saved, fmt.Errorf("--resume: %s: %w", ckPath, err)
	}
	tr := run.Trainer
	tr.AdamStep = step
	copy(tr.MomentInput, vals["m_in"])
	copy(tr.MomentRecurrent, vals["m_rec"])
	copy(tr.MomentOutput, vals["m_out"])
	copy(tr.VarianceInput, vals["v_in"])
	copy(tr.VarianceRecurr, vals["v_rec"])
	copy(tr.VarianceOutput, vals["v_out"])
	for i := 0; i < done; i++ {
		run.History = append(run.History, learn.IterationRecord{Iteration: i, Loss: vals["loss"][i], Accuracy: vals["accuracy"][i],
			SpikesPerTrial: vals["spikes_per_trial"][i], SynOpsPerTrial: vals["synops_per_trial"][i], Seconds: vals["seconds"][i]})
	}
	var evals []epropEval
	if it, acc := arrays["eval_iteration"], arrays["eval_accuracy"]; it != nil && acc != nil && len(it.Data) == len(acc.Data) {
		for i := range it.Data {
			evals = append(evals, epropEval{int(it.Data[i]), acc.Data[i]})
		}
	}
	return run, evals, saved, nil
}

// writeEpropOutputs writes the model file, the learning curve and the
// raster of one fresh trial.
func writeEpropOutputs(dir string, run *learn.EvidenceRun, evals []epropEval) error {
	cfg := run.Config
	tr := run.Trainer
	meta := formats.RecurrentMeta{
		Input:  formats.IOSpec{Meaning: "spikes: left cue, right cue, recall, background populations"},
		Output: formats.IOSpec{Meaning: "class-probabilities", Names: []string{"left", "right"}},
		Provenance: formats.Provenance{Tool: "spikebridge train eprop", Source: "evidence-accumulation",
			Settings: map[string]string{"seed": strconv.FormatUint(cfg.Seed, 10), "iterations": strconv.Itoa(run.Iteration),
				"batch": strconv.Itoa(cfg.Batch), "learning_rate": fmt.Sprint(cfg.Eprop.LearningRate), "reg": fmt.Sprint(cfg.Eprop.RegStrength), "gradient": string(cfg.Eprop.Gradient)}},
		Task: map[string]float64{"cues": float64(cfg.Task.Cues), "cue_steps": float64(cfg.Task.CueSteps), "spacing_steps": float64(cfg.Task.SpacingSteps),
			"background_steps": float64(cfg.Task.BackgroundSteps), "recall_steps": float64(cfg.Task.RecallSteps), "lif": float64(cfg.Network.LIF), "alif": float64(cfg.Network.ALIF),
			"spike_prob": cfg.Task.SpikeProb, "minority_prob": cfg.Task.MinorityProb},
	}
	if err := formats.SaveRecurrent(filepath.Join(dir, epropModelFile), tr.Net, tr.Feedback, meta); err != nil {
		return err
	}
	curve := report.EpropCurve{Title: fmt.Sprintf("e-prop, evidence accumulation, batch %d, seed %d", cfg.Batch, cfg.Seed), Window: 10}
	for _, h := range run.History {
		curve.Loss = append(curve.Loss, h.Loss)
		curve.Accuracy = append(curve.Accuracy, h.Accuracy)
	}
	for _, e := range evals {
		curve.EvalIterations = append(curve.EvalIterations, float64(e.Iteration))
		curve.EvalAccuracy = append(curve.EvalAccuracy, e.Accuracy)
	}
	if len(curve.Loss) > 0 {
		if err := formats.WriteFileAtomic(filepath.Join(dir, epropCurveFile), func(w io.Writer) error { return report.WriteEpropCurve(w, curve) }); err != nil {
			return err
		}
	}
	inputs, spikes, class, err := run.RasterTrial()
	if err != nil {
		return err
	}
	var points []report.Spike
	in := cfg.Task.Inputs
	for i, v := range inputs {
		if v != 0 {
			points = append(points, report.Spike{Step: i / in, Layer: 0, Neuron: i % in})
		}
	}
	for _, s := range spikes {
		layer, neuron := 1, s[1]
		if neuron >= cfg.Network.LIF {
			layer, neuron = 2, neuron-cfg.Network.LIF
		}
		points = append(points, report.Spike{Step: s[0], Layer: layer, Neuron: neuron})
	}
	title := fmt.Sprintf("one fresh trial (class %s), after %d iterations", []string{"left", "right"}[class], run.Iteration)
	return formats.WriteFileAtomic(filepath.Join(dir, epropRasterFile), func(w io.Writer) error {
		return report.WriteSpikeRaster(w, title, points, []int{in, cfg.Network.LIF, cfg.Network.ALIF}, []string{"inputs", "LIF", "ALIF"}, cfg.Task.Steps())
	})
}
