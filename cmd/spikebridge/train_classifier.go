package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/train"
)

// TrainClassifierOptions holds the flags of `spikebridge train classifier`.
type TrainClassifierOptions struct {
	IO      *IOStreams
	Data    string
	Teacher string
	Config  train.ClassifierConfig
	Out     string
	JSON    bool
}

// NewCmdTrainClassifier parses flags; runF replaces runTrainClassifier in tests.
func NewCmdTrainClassifier(ios *IOStreams, runF func(*TrainClassifierOptions) error) *cobra.Command {
	opts := &TrainClassifierOptions{IO: ios, Config: train.DefaultClassifierConfig()}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "classifier --data states.npz [--teacher M] -o student.safetensors",
		Short: "Distil a policy: train a classifier (Gorgonia) on recorded states and the teacher's actions",
		Long: `Train an MLP with softmax cross-entropy to reproduce a teacher's greedy actions on
recorded states (spikebridge record). The labels are the file's "actions" array, or the
argmax of --teacher on every state when it is given. --clip-floor L trains with
quantisation-aware activations (clip to [0,1], round to L levels, straight-through
gradient); the saved network keeps plain ReLUs.`,
		Example: "  spikebridge train classifier --data states.npz --teacher policy.pt -o student.safetensors",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE.safetensors is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrainClassifier(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "states.npz", "recorded states (.npz with states and actions)")
	f.StringVar(&opts.Teacher, "teacher", "", "relabel the states with this network's argmax (.safetensors or .pt)")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "hidden layer widths")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the data")
	f.IntVar(&c.Batch, "batch", c.Batch, "mini-batch size")
	f.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initialisation and shuffling")
	f.IntVar(&c.ClipFloor, "clip-floor", c.ClipFloor, "quantisation-aware activations with this many levels; 0 = off")
	f.StringVarP(&opts.Out, "output", "o", "", "output model file (.safetensors)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

type trainClassifierResult struct {
	Out string `json:"out"`
	train.ClassifierResult
}

func runTrainClassifier(opts *TrainClassifierOptions) error {
	var teacher *model.Network
	inputs := -1
	if opts.Teacher != "" {
		var err error
		if teacher, err = formats.LoadANN(opts.Teacher); err != nil {
			return err
		}
		inputs = teacher.InputSize()
	}
	arrays, err := formats.ReadNPZ(opts.Data)
	if err != nil {
		return err
	}
	if a, ok := arrays["states"]; ok && inputs < 0 && len(a.Shape) == 2 {
		inputs = a.Shape[1]
	}
	states, labels, err := loadStates(opts.Data, inputs)
	if err != nil {
		return err
	}
	classes := 2
	if teacher != nil {
		labels = convert.LabelStates(teacher, states)
		classes = teacher.OutputSize()
	} else if labels == nil {
		return usageErrorf("%s has no \"actions\" labels: give --teacher", opts.Data)
	} else if classes, err = labelClasses(opts.Data, labels, arrays["q"]); err != nil {
		return err
	}
	net, res, err := train.TrainClassifier(states.Data, states.Width, labels, classes, opts.Config)
	if err != nil {
		return err
	}
	meta := formats.ModelMeta{Input: formats.IOSpec{Meaning: "observation"}, Output: formats.IOSpec{Meaning: "action logits"},
		Provenance: formats.Provenance{Source: opts.Data, Tool: "spikebridge train classifier", Settings: classifierSettings(opts.Config, opts.Teacher)}}
	if err := formats.SaveModel(opts.Out, net, meta); err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(trainClassifierResult{Out: opts.Out, ClassifierResult: res})
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s: %s student, %d samples, %d epochs: loss %.4f, accuracy %.4f\n",
		opts.Out, net, res.Samples, res.Epochs, res.Loss, res.Accuracy)
	return err
}

func classifierSettings(c train.ClassifierConfig, teacher string) map[string]string {
	return map[string]string{"hidden": fmt.Sprint(c.Hidden), "epochs": fmt.Sprint(c.Epochs), "batch": fmt.Sprint(c.Batch),
		"lr": fmt.Sprint(c.LR), "seed": fmt.Sprint(c.Seed), "clip_floor": fmt.Sprint(c.ClipFloor), "teacher": teacher}
}

// maxClasses bounds the outputs of a classifier trained on file labels.
const maxClasses = 1 << 12

// labelClasses returns the number of classes of a file's action labels:
// the columns of its Q-values when it has them (spikebridge record writes
// both), else the largest label + 1. A label outside the Q-values' actions,
// or one that leaves classes without a single sample below it (a stray
// label: one 7 among 0s and 1s would build an 8-output student), is an
// error naming the row.
func labelClasses(path string, labels []int, q *formats.Array) (int, error) {
	top, topRow := 0, 0
	for i, l := range labels {
		if l > top {
			top, topRow = l, i
		}
	}
	if q != nil && len(q.Shape) == 2 && q.Shape[0] == len(labels) {
		if top >= q.Shape[1] {
			return 0, fmt.Errorf("%s: array \"actions\": label %d at row %d, but array \"q\" has %d actions (labels 0 to %d)",
				path, top, topRow, q.Shape[1], q.Shape[1]-1)
		}
		return max(q.Shape[1], 2), nil
	}
	if top >= maxClasses {
		return 0, fmt.Errorf("%s: array \"actions\": label %d at row %d, more than the %d classes a classifier may have", path, top, topRow, maxClasses)
	}
	count := make([]int, top+1)
	for _, l := range labels {
		count[l]++
	}
	var empty []int
	for c, n := range count {
		if n == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) > 0 {
		return 0, fmt.Errorf("%s: array \"actions\": label %d at row %d would make %d classes, but class(es) %v have no sample (a stray label?); fix the labels or relabel with --teacher",
			path, top, topRow, top+1, empty)
	}
	return max(top+1, 2), nil
}
