package convert

import (
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
)

// With Select, Distill keeps the student whose SNN agreed most with the
// teacher on its own episodes, not the last one; StopAgreement ends the
// rounds as soon as a student is good enough.
func TestDistillSelectsByClosedLoopAgreement(t *testing.T) {
	teacher, _ := seed1Policy(t)
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(e, teacher, RecordOptions{Episodes: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// always0 pushes left whatever it sees: it disagrees with the balancing
	// teacher on about half of the states.
	always0, err := model.New([]model.Layer{model.NewDense("fc1", 4, 1, make([]float32, 4), []float32{1}),
		model.NewActivation("relu1", model.ReLU, 1), model.NewDense("fc2", 1, 2, []float32{0, 0}, []float32{1, 0})})
	if err != nil {
		t.Fatal(err)
	}
	// Calls: the first student and round 2's are the teacher, round 1's always0.
	students := []*model.Network{teacher, always0, teacher}
	calls := 0
	trainer := func(s States, labels []int, _ []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
		calls++
		return students[calls-1], 0.1 * float64(calls), nil // accuracy 0.1 × the call
	}
	cOpts, err := MethodOptions(MethodNeuron, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	o := DistillOptions{Convert: cOpts, Timesteps: 32, Rounds: 2, Episodes: 2, FirstEpochs: 1, RoundEpochs: 1, Seed: 3, Train: trainer}
	run := func(o DistillOptions) *Distillation {
		t.Helper()
		calls = 0
		d, err := Distill(e, teacher, rec.AsStates(), o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	last := run(o)
	if last.Student != teacher || last.Kept != 2 || last.FinalCheck != nil {
		t.Errorf("without Select: kept round %d (final check %v), want the last student (round 2)", last.Kept, last.FinalCheck)
	}
	o.Select = true
	d := run(o)
	if d.FinalCheck == nil || d.FinalCheck.Round != 3 {
		t.Fatalf("Select: final check %+v, want a measurement of the last student", d.FinalCheck)
	}
	// Round 2 measured always0 (round 1's student): it must be the worst.
	if bad := d.Rounds[1].LabelAgreement; bad >= d.Rounds[0].LabelAgreement || bad >= d.FinalCheck.LabelAgreement {
		t.Errorf("always0 agreed on %.3f, the teacher's SNN on %.3f and %.3f", bad, d.Rounds[0].LabelAgreement, d.FinalCheck.LabelAgreement)
	}
	if d.Student != teacher || d.Kept == 1 || d.KeptAgreement < d.Rounds[0].LabelAgreement {
		t.Errorf("Select kept round %d (agreement %.3f), want a teacher student (round 0 or 2)", d.Kept, d.KeptAgreement)
	}
	if want := 0.1 * float64(d.Kept+1); d.Accuracy != want {
		t.Errorf("kept round %d with accuracy %v, want that student's own", d.Kept, d.Accuracy)
	}
	o.StopAgreement = 0.01
	stop := run(o)
	if calls != 1 || stop.Kept != 0 || len(stop.Rounds) != 0 || stop.Student != teacher {
		t.Errorf("StopAgreement 0.01: %d trainer calls, kept round %d, %d rounds; want the first student kept after one measurement", calls, stop.Kept, len(stop.Rounds))
	}
}

// TeacherEpisodes adds the teacher's own greedy episodes (from Seed*1000 +
// 999) to the first student's states, labelled like the rest.
func TestDistillTeacherEpisodes(t *testing.T) {
	teacher, _ := seed1Policy(t)
	e, err := env.Make("cartpole-v1")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(e, teacher, RecordOptions{Episodes: 1, Seed: 5, Epsilon: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	own, err := env.Run(e, model.NewQPolicy(teacher), env.RunOptions{Episodes: 2, Seed: 4*1000 + 999, RecordStates: true})
	if err != nil {
		t.Fatal(err)
	}
	var first States
	trainer := func(s States, labels []int, _ []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
		first = s
		return teacher, 1, nil
	}
	cOpts, err := MethodOptions(MethodNeuron, 16, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Distill(e, teacher, rec.AsStates(), DistillOptions{Convert: cOpts, Timesteps: 16, Episodes: 1, FirstEpochs: 1,
		RoundEpochs: 1, Seed: 4, Train: trainer, TeacherEpisodes: 2}); err != nil {
		t.Fatal(err)
	}
	if want := rec.Rows() + len(own.States); first.Rows() != want {
		t.Fatalf("first student trained on %d states, want %d recorded + %d of the teacher's two greedy episodes", first.Rows(), rec.Rows(), len(own.States))
	}
	for i, x := range own.States {
		got := first.Row(rec.Rows() + i)
		for c := range x {
			if got[c] != x[c] {
				t.Fatalf("teacher state %d: %v, the greedy run visited %v", i, got, x)
			}
		}
	}
}
