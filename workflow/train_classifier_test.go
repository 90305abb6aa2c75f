package workflow

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
)

// statesFile writes n states of width 4 labelled by the sign of the first
// value (actions), or without labels.
func statesFile(t *testing.T, path string, n int, labelled bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	states := make([]float32, 4*n)
	actions := make([]int, n)
	for i := range n {
		for j := range 4 {
			states[4*i+j] = float32(rng.NormFloat64())
		}
		if states[4*i] > 0 {
			actions[i] = 1
		}
	}
	arrays := []*formats.Array{formats.NewFloat32Array("states", []int{n, 4}, states)}
	if labelled {
		arrays = append(arrays, formats.NewInt64Array("actions", []int{n}, actions))
	}
	if err := formats.WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
}

// The saved student labels the states as the run reported: its accuracy,
// recomputed with model.Forward on the file's states, is the result's.
func TestTrainClassifierSavedModelAccuracy(t *testing.T) {
	dir := t.TempDir()
	data, out := filepath.Join(dir, "states.npz"), filepath.Join(dir, "student.safetensors")
	statesFile(t, data, 400, true)
	cfg := train.DefaultClassifierConfig()
	cfg.Hidden, cfg.Epochs, cfg.Batch = []int{16}, 20, 32
	res, err := TrainClassifier(TrainClassifierOptions{Data: data, Config: cfg, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	net, err := formats.LoadANN(out)
	if err != nil {
		t.Fatal(err)
	}
	states, labels, err := LoadStates(data, 4)
	if err != nil {
		t.Fatal(err)
	}
	ws, y, right := net.NewWorkspace(1), make([]float32, 2), 0
	for i, l := range labels {
		net.Forward(y, states.Data[4*i:4*i+4], ws)
		if (y[1] > y[0]) == (l == 1) {
			right++
		}
	}
	if got := float64(right) / float64(len(labels)); got != res.Accuracy || res.Accuracy < 0.9 || res.Samples != 400 || res.Out != out {
		t.Errorf("saved model's accuracy %v, the run's %v (samples %d); want equal and >= 0.9 on a linear boundary", got, res.Accuracy, res.Samples)
	}
	var text strings.Builder
	if err := res.WriteText(&text); err != nil || !strings.HasPrefix(text.String(), out+": 4-16-2") {
		t.Errorf("text %q (%v)", text.String(), err)
	}
}

// Without labels and teacher the job refuses; a stray label is named by
// its row.
func TestTrainClassifierLabels(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "states.npz")
	statesFile(t, data, 10, false)
	var oe *OptionError
	if _, err := TrainClassifier(TrainClassifierOptions{Data: data, Config: train.DefaultClassifierConfig(), Out: filepath.Join(dir, "s.safetensors")}); !errors.As(err, &oe) || !oe.Invalid || err.Error() != data+` has no "actions" labels: give Teacher` {
		t.Errorf("no labels: %v", err)
	}
	if _, err := labelClasses("f.npz", []int{0, 1, 7, 1}, nil); err == nil || !strings.Contains(err.Error(), "label 7 at row 2") {
		t.Errorf("stray label: %v", err)
	}
	if n, err := labelClasses("f.npz", []int{0, 0}, nil); n != 2 || err != nil {
		t.Errorf("one class: %d classes (%v), want 2", n, err)
	}
	q := formats.NewFloat32Array("q", []int{2, 3}, make([]float32, 6))
	if n, err := labelClasses("f.npz", []int{0, 1}, q); n != 3 || err != nil {
		t.Errorf("labels with 3 Q columns: %d classes (%v)", n, err)
	}
}
