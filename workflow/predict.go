package workflow

import (
	"fmt"
	"math"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
)

// PredictOptions says which model runs on which rows into which file
// (`spikebridge predict`).
type PredictOptions struct {
	Model     string // .safetensors written by spikebridge, ANN or SNN
	Input     string // FILE.npz[:array] (array defaults to states) or FILE.npy
	Output    string // .npz: q (rows, outputs) float32 and actions (rows) int64
	BatchSize int    // rows per forward pass, 1 to MaxPredictBatch
}

// MaxPredictBatch bounds PredictOptions.BatchSize: the workspace is batch
// x widest layer.
const MaxPredictBatch = 1 << 16

// Predict runs the model on every row of the input and writes its outputs
// and their argmax (ties to the lowest index); an SNN runs in snn/ at its
// own T per decision. It returns the rows and outputs written.
func Predict(opts PredictOptions) (rows, outputs int, err error) {
	if opts.BatchSize < 1 || opts.BatchSize > MaxPredictBatch {
		return 0, 0, invalidf("{BatchSize} %d: want 1 to %d", opts.BatchSize, MaxPredictBatch)
	}
	kind, err := formats.ModelKind(opts.Model)
	if err != nil {
		return 0, 0, err
	}
	var q []float32
	var actions []int
	if kind == formats.ModelKindSNN {
		q, actions, rows, outputs, err = predictSNN(opts)
	} else {
		q, actions, rows, outputs, err = predictANN(opts)
	}
	if err != nil {
		return 0, 0, err
	}
	return rows, outputs, formats.WriteNPZ(opts.Output, []*formats.Array{
		formats.NewFloat32Array("q", []int{rows, outputs}, q),
		formats.NewInt64Array("actions", []int{rows}, actions),
	})
}

func predictSNN(opts PredictOptions) (q []float32, actions []int, rows, outputs int, err error) {
	net, _, err := formats.LoadSNN(opts.Model)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	if net.Timesteps < 1 {
		return nil, nil, 0, 0, fmt.Errorf("%s: the spiking model names no timesteps per decision", opts.Model)
	}
	input, err := loadModelRows(opts.Input, "states", opts.Model, net.InputSize())
	if err != nil {
		return nil, nil, 0, 0, err
	}
	rows, outputs = len(input)/net.InputSize(), net.OutputSize()
	q, actions = make([]float32, rows*outputs), make([]int, rows)
	st := net.NewState(min(opts.BatchSize, max(rows, 1)))
	for start := 0; start < rows; start += opts.BatchSize {
		n := min(opts.BatchSize, rows-start)
		if err := net.RunBatch(
			q[start*outputs:(start+n)*outputs], actions[start:start+n], input[start*net.InputSize():(start+n)*net.InputSize()], n, st, 0); err != nil {
			return nil, nil, 0, 0, fmt.Errorf("%s: %w", opts.Model, err)
		}
	}
	return q, actions, rows, outputs, nil
}

func predictANN(opts PredictOptions) (q []float32, actions []int, rows, outputs int, err error) {
	net, _, err := formats.LoadModel(opts.Model)
	if err != nil {
		return nil, nil, 0, 0, err
	}
	input, err := loadModelRows(opts.Input, "states", opts.Model, net.InputSize())
	if err != nil {
		return nil, nil, 0, 0, err
	}
	rows, outputs = len(input)/net.InputSize(), net.OutputSize()
	q = make([]float32, rows*outputs)
	ws := net.NewWorkspace(min(opts.BatchSize, max(rows, 1)))
	for start := 0; start < rows; start += opts.BatchSize {
		n := min(opts.BatchSize, rows-start)
		net.ForwardBatch(q[start*outputs:(start+n)*outputs], input[start*net.InputSize():(start+n)*net.InputSize()], n, ws)
	}
	actions = make([]int, rows)
	for i := range actions {
		actions[i] = model.Argmax(q[i*outputs : (i+1)*outputs])
	}
	return q, actions, rows, outputs, nil
}

// loadModelRows reads an array of rows for a model of inputs inputs: 2-d
// with one column per input (a 1-d array is one row), finite values, as
// float32. Errors name the file, the array and the model.
func loadModelRows(spec, defaultArray, modelPath string, inputs int) ([]float32, error) {
	a, err := formats.LoadArray(spec, defaultArray)
	if err != nil {
		return nil, err
	}
	path, _ := formats.SplitArraySpec(spec, defaultArray)
	_, cols, err := a.Matrix()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cols != inputs {
		return nil, fmt.Errorf("%s: array %q has %d values per row (shape %v), but model %s takes %d inputs",
			path, a.Name, cols, a.Shape, modelPath, inputs)
	}
	values := a.Float32s()
	for i, v := range values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%s: array %q: row %d, column %d is %v, want a finite number", path, a.Name, i/cols, i%cols, v)
		}
	}
	return values, nil
}
