package workflow

import (
	"fmt"
	"io"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/train"
)

// TrainClassifierOptions distils a policy: a classifier trained on the
// states of Data (.npz) with its "actions" labels, or with Teacher's
// greedy actions when Teacher is set, saved to Out.
type TrainClassifierOptions struct {
	Data    string
	Teacher string
	Config  train.ClassifierConfig
	Out     string
}

// TrainClassifierResult is the result of a run (`train classifier --json`).
type TrainClassifierResult struct {
	Out string `json:"out"`
	train.ClassifierResult
	// Network describes the trained network ("4-64-2 ...").
	Network string `json:"-"`
}

// TrainClassifier trains and saves the classifier of o.
func TrainClassifier(o TrainClassifierOptions) (TrainClassifierResult, error) {
	var teacher *model.Network
	inputs := -1
	if o.Teacher != "" {
		var err error
		if teacher, err = formats.LoadANN(o.Teacher); err != nil {
			return TrainClassifierResult{}, err
		}
		inputs = teacher.InputSize()
	}
	arrays, err := formats.ReadNPZ(o.Data)
	if err != nil {
		return TrainClassifierResult{}, err
	}
	if a, ok := arrays["states"]; ok && inputs < 0 && len(a.Shape) == 2 {
		inputs = a.Shape[1]
	}
	states, labels, err := LoadStates(o.Data, inputs)
	if err != nil {
		return TrainClassifierResult{}, err
	}
	classes := 2
	if teacher != nil {
		labels = convert.LabelStates(teacher, states)
		classes = teacher.OutputSize()
	} else if labels == nil {
		return TrainClassifierResult{}, invalidf("%s has no \"actions\" labels: give {Teacher}", o.Data)
	} else if classes, err = labelClasses(o.Data, labels, arrays["q"]); err != nil {
		return TrainClassifierResult{}, err
	}
	net, res, err := train.TrainClassifier(states.Data, states.Width, labels, classes, o.Config)
	if err != nil {
		return TrainClassifierResult{}, err
	}
	meta := formats.ModelMeta{Input: formats.IOSpec{Meaning: "observation"}, Output: formats.IOSpec{Meaning: "action logits"},
		Provenance: formats.Provenance{Source: o.Data, Tool: "spikebridge train classifier", Settings: ClassifierSettings(o.Config, o.Teacher)}}
	if err := formats.SaveModel(o.Out, net, meta); err != nil {
		return TrainClassifierResult{}, err
	}
	return TrainClassifierResult{Out: o.Out, ClassifierResult: res, Network: net.String()}, nil
}

// WriteText writes the result for people.
func (r TrainClassifierResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s: %s student, %d samples, %d epochs: loss %.4f, accuracy %.4f\n",
		r.Out, r.Network, r.Samples, r.Epochs, r.Loss, r.Accuracy)
	return err
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
		return 0, &OptionError{Msg: fmt.Sprintf("%s: array \"actions\": label %d at row %d would make %d classes, but class(es) %v have no sample (a stray label?); fix the labels or relabel with {Teacher}",
			path, top, topRow, top+1, empty)}
	}
	return max(top+1, 2), nil
}
