package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
)

// saveEpropCheckpoint writes the weights, feedback, Adam state, history and
// evaluations to checkpoint.npz (float64, exact), then metrics.csv.
func saveEpropCheckpoint(dir string, run *learn.EvidenceRun, evals []EpropEval) error {
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
	if err := formats.WriteNPZ(filepath.Join(dir, EpropCheckpointFile), arrays); err != nil {
		return err
	}
	return writeEpropMetrics(filepath.Join(dir, EpropMetricsFile), hist, evals)
}

func writeEpropMetrics(path string, hist []learn.IterationRecord, evals []EpropEval) error {
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
func resumeEpropRun(dir string, iterations, workers int) (*learn.EvidenceRun, []EpropEval, EpropRunConfig, error) {
	saved, err := readEpropRunConfig(filepath.Join(dir, EpropConfigFile))
	if err != nil {
		return nil, nil, saved, err
	}
	cfg := saved.EvidenceRunConfig
	cfg.Iterations = iterations
	cfg.Eprop.Workers = workers
	ckPath := filepath.Join(dir, EpropCheckpointFile)
	arrays, err := formats.ReadNPZ(ckPath)
	if err != nil {
		return nil, nil, saved, &ResumeError{err}
	}
	done, step, vals, err := epropCheckpointArrays(ckPath, arrays, cfg)
	if err != nil {
		return nil, nil, saved, err
	}
	run, err := restoreEpropRun(ckPath, cfg, done, step, vals)
	if err != nil {
		return nil, nil, saved, err
	}
	var evals []EpropEval
	if it, acc := arrays["eval_iteration"], arrays["eval_accuracy"]; it != nil && acc != nil && len(it.Data) == len(acc.Data) {
		for i := range it.Data {
			evals = append(evals, EpropEval{int(it.Data[i]), acc.Data[i]})
		}
	}
	return run, evals, saved, nil
}

// readEpropRunConfig reads a run's config.json.
func readEpropRunConfig(path string) (EpropRunConfig, error) {
	var saved EpropRunConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return saved, &ResumeError{err}
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		return saved, resumeErrorf("%s: %w", path, err)
	}
	if saved.EvalTrials < 1 || saved.CheckpointEvery < 1 {
		return saved, resumeErrorf("%s: eval_trials %d and checkpoint_every %d, want at least 1", path, saved.EvalTrials, saved.CheckpointEvery)
	}
	return saved, nil
}

// epropCheckpointArrays checks a checkpoint's arrays against the run's
// sizes and returns the iterations done, the Adam step and the arrays by
// name.
func epropCheckpointArrays(ckPath string, arrays map[string]*formats.Array, cfg learn.EvidenceRunConfig) (done, step int, vals map[string][]float64, err error) {
	N, In, K := cfg.Network.LIF+cfg.Network.ALIF, cfg.Task.Inputs, 2
	get := func(name string, n int) ([]float64, error) {
		a := arrays[name]
		if a == nil {
			return nil, resumeErrorf("%s: no array %q", ckPath, name)
		}
		if len(a.Data) != n {
			return nil, resumeErrorf("%s: array %q has %d values, want %d", ckPath, name, len(a.Data), n)
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
	if done, err = scalar("iteration"); err != nil {
		return
	}
	if step, err = scalar("adam_step"); err != nil {
		return
	}
	if done < 0 || done > cfg.Iterations {
		return 0, 0, nil, &OptionError{Msg: fmt.Sprintf("{Resume}: %s is at iteration %d; {Iterations} %d must be at least that", ckPath, done, cfg.Iterations)}
	}
	shapes := map[string]int{"w_in": N * In, "w_rec": N * N, "w_out": K * N, "b_feedback": N * K,
		"m_in": N * In, "m_rec": N * N, "m_out": K * N, "v_in": N * In, "v_rec": N * N, "v_out": K * N,
		"loss": done, "accuracy": done, "spikes_per_trial": done, "synops_per_trial": done, "seconds": done}
	vals = map[string][]float64{}
	for name, n := range shapes {
		if vals[name], err = get(name, n); err != nil {
			return
		}
	}
	for _, name := range []string{"m_in", "m_rec", "m_out", "v_in", "v_rec", "v_out"} {
		for i, v := range vals[name] {
			if math.IsNaN(v) || math.IsInf(v, 0) || (name[0] == 'v' && v < 0) {
				return 0, 0, nil, resumeErrorf("%s: array %q element %d is %v, want a finite Adam moment (second moments 0 or more)", ckPath, name, i, v)
			}
		}
	}
	return done, step, vals, nil
}

// restoreEpropRun builds the run of cfg after done iterations from a
// checkpoint's weights, feedback, Adam state and history.
func restoreEpropRun(ckPath string, cfg learn.EvidenceRunConfig, done, step int, vals map[string][]float64) (*learn.EvidenceRun, error) {
	net, _, err := cfg.Network.New(rand.New(rand.NewPCG(0, 0)), cfg.Task.Inputs, 2) // shape and parameters; weights replaced below
	if err != nil {
		return nil, err
	}
	net.InputWeights, net.RecurrentWeights, net.OutputWeights = vals["w_in"], vals["w_rec"], vals["w_out"]
	if err := net.Validate(); err != nil {
		return nil, resumeErrorf("%s: %w", ckPath, err)
	}
	run, err := learn.ResumeEvidenceRun(cfg, net, vals["b_feedback"], done)
	if err != nil {
		return nil, resumeErrorf("%s: %w", ckPath, err)
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
	return run, nil
}
