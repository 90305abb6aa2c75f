package convert

import (
	"errors"
	"fmt"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// Method names a conversion recipe: the options Convert runs with and, for
// MethodDistill, a student trained on the teacher's actions first.
type Method string

// The conversion methods.
const (
	MethodBaseline  Method = "baseline"  // DESIGN.md: layer-wise 99.9th percentile
	MethodNeuron    Method = "neuron"    // neuron-wise max normalisation
	MethodCalibrate Method = "calibrate" // neuron-wise max + bias calibration at T
	MethodDistill   Method = "distill"   // student classifier + DAgger + neuron-wise max
)

// Methods lists the conversion methods, the default first.
func Methods() []Method {
	return []Method{MethodDistill, MethodBaseline, MethodNeuron, MethodCalibrate}
}

// MethodOptions returns the options that convert a network by method m at
// T = timesteps. clipFloor is the student's clip-floor level count
// (MethodDistill only): a student trained with activations clipped at 1 is
// converted with unit scales, where threshold 1 in its own units reproduces
// the clip.
func MethodOptions(m Method, timesteps, clipFloor int) (Options, error) {
	o := Options{Normalization: NeuronWise, Percentile: 100, Timesteps: timesteps,
		InitialMembrane: 0.5, Reset: snn.ResetSubtract, Propagation: snn.SameStep}
	switch m {
	case MethodBaseline:
		o = BaselineOptions(timesteps)
	case MethodNeuron:
	case MethodDistill:
		if clipFloor > 0 {
			o.Normalization = Unit
		}
	case MethodCalibrate:
		o.CalibrationRounds = 2
	default:
		return Options{}, fmt.Errorf("convert: method %q: want %s, %s, %s or %s", m,
			MethodDistill, MethodBaseline, MethodNeuron, MethodCalibrate)
	}
	return o, nil
}

// StudentTrainer trains a student classifier on states labelled with the
// teacher's actions, starting from init (nil: a fresh network) for epochs
// passes with seed, and returns it with its accuracy on those states.
// convert never imports the trainer (train.TrainClassifier): the caller
// composes them.
type StudentTrainer func(states States, labels []int, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error)

// DistillOptions steer Distill.
type DistillOptions struct {
	// Convert converts every student (MethodOptions(MethodDistill, ...)).
	Convert Options
	// Timesteps is the T of the student's SNN that plays the DAgger episodes.
	Timesteps int
	// Rounds of DAgger (0: plain distillation), Episodes played by the SNN
	// per round, FirstEpochs of the first student, RoundEpochs of
	// retraining per round.
	Rounds, Episodes, FirstEpochs, RoundEpochs int
	// Seed seeds the first student; round r trains with Seed+r and records
	// episodes from Seed*1000+r.
	Seed uint64
	// Init is the first student's starting network (nil: random).
	Init *model.Network
	// Select keeps, of all students, the one whose SNN at Timesteps agreed
	// most with the teacher on the states it visited itself (each round
	// measures the previous student; one more batch of Episodes measures
	// the last); otherwise the last student is kept.
	Select bool
	// StopAgreement in (0, 1] ends the rounds early once a student's SNN
	// reaches that own-trajectory agreement with the teacher (0: never).
	StopAgreement float64
	// TeacherEpisodes > 0 adds that many greedy episodes of the teacher
	// itself (seeded from Seed) to the states before the first student:
	// DAgger covers the states the student visits, these the teacher's own.
	TeacherEpisodes int
	// Train trains the students.
	Train StudentTrainer
	// Progress, when set, hears of the first student and of every round's
	// start and end.
	Progress func(DistillStatus)
}

// DistillRound reports one DAgger round.
type DistillRound struct {
	Round          int     `json:"round"`
	SNNReturnsMean float64 `json:"snn_returns_mean"`
	NewStates      int     `json:"new_states"`
	LabelAgreement float64 `json:"label_agreement"` // SNN action == teacher label on the new states
	Accuracy       float64 `json:"student_accuracy"`
}

// DistillStatus is what Distill reports as it goes.
type DistillStatus struct {
	// Round is 0 for the first student, 1..Rounds for DAgger rounds.
	Round, Rounds int
	// Done is false when a round starts, true when it (or the first
	// student) is finished; then Student, States, Accuracy and (rounds)
	// Result describe it.
	Done     bool
	Student  *model.Network
	States   int
	Accuracy float64
	Result   DistillRound
}

// Distillation is Distill's result.
type Distillation struct {
	Student  *model.Network // the kept student (the last one unless Select)
	SNN      *snn.Network   // the kept student, converted
	States   States         // the calibration states and every state the rounds added
	Rounds   []DistillRound
	Accuracy float64 // the kept student's accuracy on the states it was trained on
	// Kept is the round that trained the kept student (0: the first one).
	Kept int
	// KeptAgreement is the kept student's SNN's own-trajectory agreement with
	// the teacher as measured (NaN-free: 0 when it was never measured), and
	// FinalCheck the measurement of the last student after the rounds (Select).
	KeptAgreement float64
	FinalCheck    *DistillRound
}

// TeacherInit returns teacher when it is an MLP with the given hidden widths
// (a student may start from its weights), nil otherwise.
func TeacherInit(teacher *model.Network, hidden []int) *model.Network {
	sizes := teacher.Sizes()
	if len(sizes) != len(hidden)+2 {
		return nil
	}
	for i, h := range hidden {
		if sizes[i+1] != h {
			return nil
		}
	}
	return teacher
}

// LabelStates returns the teacher's greedy action (argmax) on every state.
func LabelStates(teacher *model.Network, states States) []int {
	ws := teacher.NewWorkspace(1)
	q := make([]float32, teacher.OutputSize())
	labels := make([]int, states.Rows())
	for r := range labels {
		teacher.Forward(q, states.Row(r), ws)
		labels[r] = model.Argmax(q)
	}
	return labels
}

// Distill trains a student on the teacher's actions over calib, improves it
// with DAgger rounds (its SNN plays episodes of e, the teacher labels the
// visited states, the student retrains on all) and converts the last one.
func Distill(e env.Env, teacher *model.Network, calib States, o DistillOptions) (*Distillation, error) {
	if o.Train == nil {
		return nil, errors.New("convert: distill: no student trainer")
	}
	if o.TeacherEpisodes < 0 || !(o.StopAgreement >= 0 && o.StopAgreement <= 1) {
		return nil, fmt.Errorf("convert: distill: %d teacher episodes and stop agreement %v: want >= 0 and 0..1", o.TeacherEpisodes, o.StopAgreement)
	}
	if o.Rounds < 0 || o.Episodes < 1 || o.FirstEpochs < 1 || o.RoundEpochs < 1 {
		return nil, fmt.Errorf("convert: distill: %d rounds of %d episodes and %d epochs (first student %d): want rounds >= 0, the others >= 1",
			o.Rounds, o.Episodes, o.RoundEpochs, o.FirstEpochs)
	}
	report := func(s DistillStatus) {
		if o.Progress != nil {
			o.Progress(s)
		}
	}
	data := States{Data: append([]float32(nil), calib.Data...), Width: calib.Width}
	if o.TeacherEpisodes > 0 {
		own, err := Record(e, teacher, RecordOptions{Episodes: o.TeacherEpisodes, Seed: o.Seed*1000 + 999})
		if err != nil {
			return nil, err
		}
		data.Data = append(data.Data, own.States...)
	}
	labels := LabelStates(teacher, data)
	classes := teacher.OutputSize()
	student, acc, err := o.Train(data, labels, classes, o.Init, o.FirstEpochs, o.Seed)
	if err != nil {
		return nil, err
	}
	report(DistillStatus{Rounds: o.Rounds, Done: true, Student: student, States: data.Rows(), Accuracy: acc})
	d := &Distillation{}
	// play runs the student's SNN for one batch of episodes labelled by the
	// teacher and returns them with the SNN's agreement with the labels.
	play := func(student *model.Network, seed uint64) (*Recording, *snn.Network, float64, error) {
		s, _, err := Convert(student, data, o.Convert)
		if err != nil {
			return nil, nil, 0, err
		}
		actor, err := NewSNNPolicy(s, o.Timesteps)
		if err != nil {
			return nil, nil, 0, err
		}
		rec, err := Record(e, teacher, RecordOptions{Episodes: o.Episodes, Seed: seed, Actor: actor})
		if err != nil {
			return nil, nil, 0, err
		}
		agree := 0
		for i, a := range rec.Actions {
			if rec.Taken[i] == a {
				agree++
			}
		}
		return rec, s, float64(agree) / float64(max(rec.Rows(), 1)), nil
	}
	kept, keptSNN, keptAcc, keptRound, keptAgreement := student, (*snn.Network)(nil), acc, 0, -1.0
	consider := func(round int, st *model.Network, s *snn.Network, a, agreement float64) {
		if agreement >= keptAgreement {
			kept, keptSNN, keptAcc, keptRound, keptAgreement = st, s, a, round, agreement
		}
	}
	stopped := false
	for round := 1; round <= o.Rounds; round++ {
		report(DistillStatus{Round: round, Rounds: o.Rounds})
		rec, s, agreement, err := play(student, o.Seed*1000+uint64(round))
		if err != nil {
			return nil, err
		}
		consider(round-1, student, s, acc, agreement)
		if o.StopAgreement > 0 && agreement >= o.StopAgreement {
			stopped = true
			break
		}
		data.Data = append(data.Data, rec.States...)
		labels = append(labels, rec.Actions...)
		if student, acc, err = o.Train(data, labels, classes, student, o.RoundEpochs, o.Seed+uint64(round)); err != nil {
			return nil, err
		}
		mean, _ := MeanStd(rec.Returns)
		r := DistillRound{Round: round, SNNReturnsMean: mean, NewStates: rec.Rows(), LabelAgreement: agreement, Accuracy: acc}
		d.Rounds = append(d.Rounds, r)
		report(DistillStatus{Round: round, Rounds: o.Rounds, Done: true, Student: student, States: data.Rows(), Accuracy: acc, Result: r})
	}
	if !o.Select {
		kept, keptSNN, keptAcc, keptRound, keptAgreement = student, nil, acc, len(d.Rounds), 0
	} else if !stopped {
		rec, s, agreement, err := play(student, o.Seed*1000+uint64(o.Rounds)+1)
		if err != nil {
			return nil, err
		}
		mean, _ := MeanStd(rec.Returns)
		d.FinalCheck = &DistillRound{Round: o.Rounds + 1, SNNReturnsMean: mean, LabelAgreement: agreement, Accuracy: acc}
		consider(len(d.Rounds), student, s, acc, agreement)
	}
	if keptSNN == nil {
		var err error
		if keptSNN, _, err = Convert(kept, data, o.Convert); err != nil {
			return nil, err
		}
	}
	d.Student, d.SNN, d.States, d.Accuracy = kept, keptSNN, data, keptAcc
	d.Kept, d.KeptAgreement = keptRound, max(keptAgreement, 0)
	return d, nil
}
