package convert

import (
	"math"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// SoftTargets on a teacher Q = (0, x): the gaps are |x|, tau = softness x
// their median, and the rows are the logistic function of the Q gap / tau,
// computed here in closed form.
func TestSoftTargetsClosedForm(t *testing.T) {
	teacher, err := model.New([]model.Layer{model.NewDense("q", 1, 2, []float32{0, 1}, []float32{0, 0})})
	if err != nil {
		t.Fatal(err)
	}
	states := States{Data: []float32{1, -2, 3}, Width: 1} // gaps 1, 2, 3: median 2
	got := SoftTargets(teacher, states, 0.5)              // tau = 1
	logistic := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	want := []float64{1 - logistic(1), logistic(1), logistic(2), 1 - logistic(2), 1 - logistic(3), logistic(3)}
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-6 {
			t.Errorf("target %d: %v, want %v", i, got[i], want[i])
		}
	}
	// All gaps 0: tau = 0 gives the one-hot argmax, ties to the lowest index.
	if got := SoftTargets(teacher, States{Data: []float32{0, 0}, Width: 1}, 1); got[0] != 1 || got[1] != 0 || got[2] != 1 || got[3] != 0 {
		t.Errorf("zero gaps: %v, want one-hot [1 0 1 0]", got)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
}

// With Softness > 0 every trainer call gets SoftTargets of the states it is
// given; with 0 it gets none.
func TestDistillPassesSoftTargets(t *testing.T) {
	teacher, _ := seed1Policy(t)
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(e, teacher, RecordOptions{Episodes: 1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	cOpts, err := MethodOptions(MethodDistill, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, softness := range []float64{0, 0.5} {
		calls := 0
		trainer := func(s States, labels []int, targets []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
			calls++
			if softness == 0 {
				if targets != nil {
					t.Errorf("softness 0: call %d got targets", calls)
				}
				return teacher, 1, nil
			}
			want := SoftTargets(teacher, s, softness)
			if len(targets) != len(want) {
				t.Fatalf("call %d: %d targets for %d states, want %d", calls, len(targets), s.Rows(), len(want))
			}
			for i := range want {
				if targets[i] != want[i] {
					t.Fatalf("call %d: target %d is %v, want %v", calls, i, targets[i], want[i])
				}
			}
			return teacher, 1, nil
		}
		if _, err := Distill(e, teacher, rec.AsStates(), DistillOptions{Convert: cOpts, Timesteps: 8, Rounds: 1, Episodes: 1,
			FirstEpochs: 1, RoundEpochs: 1, Softness: softness, Train: trainer}); err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Errorf("softness %v: %d trainer calls, want 2", softness, calls)
		}
	}
	if _, err := Distill(e, teacher, rec.AsStates(), DistillOptions{Convert: cOpts, Timesteps: 8, Episodes: 1,
		FirstEpochs: 1, RoundEpochs: 1, Softness: math.NaN(), Train: func(States, []int, []float32, int, *model.Network, int, uint64) (*model.Network, float64, error) {
			return teacher, 1, nil
		}}); err == nil {
		t.Error("softness NaN accepted")
	}
}

// The default recipe's DAgger settings pass Distill's checks once a trainer
// is added, and the first student trains for the student recipe's epochs.
func TestDefaultDistillOptionsAreValid(t *testing.T) {
	o := DefaultDistillOptions()
	o.Train = func(States, []int, []float32, int, *model.Network, int, uint64) (*model.Network, float64, error) {
		return nil, 0, nil
	}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	if r := DefaultStudentRecipe(); o.FirstEpochs != r.Epochs || r.Batch < 1 || !(r.LR > r.LRFinal) {
		t.Errorf("first student %d epochs, recipe %+v", o.FirstEpochs, r)
	}
}
