package main

import (
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
)

// PredictOptions holds the flags of `spikebridge predict`.
type PredictOptions struct {
	IO        *IOStreams
	Model     string
	Input     string // FILE.npz[:array] or FILE.npy
	Output    string
	BatchSize int
}

// NewCmdPredict parses flags into PredictOptions; runF replaces runPredict in tests.
func NewCmdPredict(ios *IOStreams, runF func(*PredictOptions) error) *cobra.Command {
	opts := &PredictOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "predict --model M --input FILE.npz[:array] -o OUT.npz",
		Short: "Run a model on every row of an array and write the outputs (array q) to an .npz",
		Example: `  spikebridge predict --model model.safetensors --input states.npz -o q.npz
  spikebridge predict --model model.safetensors --input expected.npz:states -o q.npz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runPredict(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Model, "model", "model.safetensors", "model file (.safetensors written by spikebridge)")
	cmd.Flags().StringVar(&opts.Input, "input", "states.npz", "input rows: FILE.npz[:array] (array defaults to states) or FILE.npy, shape (N, inputs)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "predictions.npz", "output .npz: q (N, outputs) float32 and actions (N) argmax, ties to the lowest index")
	cmd.Flags().IntVar(&opts.BatchSize, "batch-size", 1024, "rows per forward pass")
	return cmd
}

// maxPredictBatch bounds --batch-size: the workspace is batch x widest layer.
const maxPredictBatch = 1 << 16

func runPredict(opts *PredictOptions) error {
	if opts.BatchSize < 1 || opts.BatchSize > maxPredictBatch {
		return usageErrorf("--batch-size %d: want 1 to %d", opts.BatchSize, maxPredictBatch)
	}
	kind, err := formats.ModelKind(opts.Model)
	if err != nil {
		return err
	}
	var q []float32
	var actions []int
	var rows, outputs int
	if kind == formats.ModelKindSNN {
		// A spiking model file runs in snn/ at its own T per decision.
		net, _, err := formats.LoadSNN(opts.Model)
		if err != nil {
			return err
		}
		if net.Timesteps < 1 {
			return fmt.Errorf("%s: the spiking model names no timesteps per decision", opts.Model)
		}
		input, err := loadModelRows(opts.Input, "states", opts.Model, net.InputSize())
		if err != nil {
			return err
		}
		rows, outputs = len(input)/net.InputSize(), net.OutputSize()
		q, actions = make([]float32, rows*outputs), make([]int, rows)
		st := net.NewState(min(opts.BatchSize, max(rows, 1)))
		for start := 0; start < rows; start += opts.BatchSize {
			n := min(opts.BatchSize, rows-start)
			if err := net.RunBatch(
				q[start*outputs:(start+n)*outputs], actions[start:start+n], input[start*net.InputSize():(start+n)*net.InputSize()], n, st, 0); err != nil {
				return fmt.Errorf("%s: %w", opts.Model, err)
			}
		}
	} else {
		net, _, err := formats.LoadModel(opts.Model)
		if err != nil {
			return err
		}
		input, err := loadModelRows(opts.Input, "states", opts.Model, net.InputSize())
		if err != nil {
			return err
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
	}
	err = formats.WriteNPZ(opts.Output, []*formats.Array{
		formats.NewFloat32Array("q", []int{rows, outputs}, q),
		formats.NewInt64Array("actions", []int{rows}, actions),
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.IO.ErrOut, "wrote q (%d x %d) and actions to %s\n", rows, outputs, opts.Output)
	return err
}

// loadModelRows reads an array of rows for net: 2-d with one column per
// model input (a 1-d array is one row), finite values, as float32. Errors
// name the file, the array and the model.
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
