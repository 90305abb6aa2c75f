package convert

import (
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// Distill hands its trainer the calibration states labelled by the teacher
// first, then after every round the same states plus the ones the student's
// SNN visited, labelled by the teacher's own forward pass; epochs, seeds and
// starting networks follow DistillOptions.
func TestDistillFeedsTheTrainerTeacherLabels(t *testing.T) {
	teacher, _ := seed1Policy(t)
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(e, teacher, RecordOptions{Episodes: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	calib := rec.AsStates()
	type call struct {
		rows, epochs int
		seed         uint64
		init         *model.Network
	}
	var calls []call
	ws := teacher.NewWorkspace(1)
	q := make([]float32, teacher.OutputSize())
	trainer := func(s States, labels []int, _ []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
		if classes != 2 || len(labels) != s.Rows() {
			t.Fatalf("trainer got %d classes, %d labels for %d states", classes, len(labels), s.Rows())
		}
		for r := range labels {
			teacher.Forward(q, s.Row(r), ws)
			if want := model.Argmax(q); labels[r] != want {
				t.Fatalf("call %d: label %d is %d, the teacher's argmax is %d", len(calls), r, labels[r], want)
			}
		}
		calls = append(calls, call{s.Rows(), epochs, seed, init})
		return teacher, 0.25 * float64(len(calls)), nil
	}
	cOpts, err := MethodOptions(MethodDistill, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Distill(e, teacher, calib, DistillOptions{Convert: cOpts, Timesteps: 32, Rounds: 2, Episodes: 2,
		FirstEpochs: 7, RoundEpochs: 3, Seed: 11, Train: trainer})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || len(d.Rounds) != 2 {
		t.Fatalf("%d trainer calls and %d rounds, want 3 and 2", len(calls), len(d.Rounds))
	}
	want := []call{{calib.Rows(), 7, 11, nil},
		{calib.Rows() + d.Rounds[0].NewStates, 3, 12, teacher},
		{calib.Rows() + d.Rounds[0].NewStates + d.Rounds[1].NewStates, 3, 13, teacher}}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("trainer call %d: %+v, want %+v", i, calls[i], want[i])
		}
	}
	if d.States.Rows() != want[2].rows || d.Accuracy != 0.75 || d.Rounds[1].Accuracy != 0.75 {
		t.Errorf("distillation has %d states and accuracy %v, want %d and 0.75", d.States.Rows(), d.Accuracy, want[2].rows)
	}
	for _, r := range d.Rounds {
		if r.NewStates == 0 || r.LabelAgreement < 0.5 {
			// The student is the teacher: its SNN at T = 32 acts as it on most states.
			t.Errorf("round %+v: want new states and mostly the teacher's actions", r)
		}
	}
	if _, err := Distill(e, teacher, calib, DistillOptions{Convert: cOpts, Timesteps: 32, Rounds: -1, Episodes: 1,
		FirstEpochs: 1, RoundEpochs: 1, Train: trainer}); err == nil {
		t.Error("Distill with -1 rounds: no error")
	}
}

func TestMethodOptions(t *testing.T) {
	for _, m := range Methods() {
		o, err := MethodOptions(m, 16, 0)
		if err != nil || o.Timesteps != 16 {
			t.Errorf("%s: %+v, %v", m, o, err)
		}
	}
	if o, _ := MethodOptions(MethodBaseline, 16, 0); o != BaselineOptions(16) {
		t.Errorf("baseline: %+v, want DESIGN.md's baseline %+v", o, BaselineOptions(16))
	}
	if o, _ := MethodOptions(MethodDistill, 16, 8); o.Normalization != Unit {
		t.Errorf("clip-floor student normalised %q, want unit", o.Normalization)
	}
	if o, _ := MethodOptions(MethodCalibrate, 16, 0); o.CalibrationRounds != 2 || o.Normalization != NeuronWise {
		t.Errorf("calibrate: %+v", o)
	}
	if _, err := MethodOptions("nonsense", 16, 0); err == nil {
		t.Error("unknown method: no error")
	}
}
