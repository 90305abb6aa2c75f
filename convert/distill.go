package convert

import (
	"errors"
	"fmt"
	"math"

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
// targets, when non-nil, holds one probability row per state (classes
// values) to train on instead of the one-hot labels (SoftTargets).
type StudentTrainer func(states States, labels []int, targets []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error)

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
	// Softness > 0 trains every student on the teacher's Q-values softened
	// into probabilities (SoftTargets with this softness) instead of its
	// argmax alone; 0: hard labels.
	Softness float64
	// Focus > 0 pairs every DAgger round's SNN episodes with the teacher's
	// greedy episodes from the same initial states and, where a pair's
	// lengths differ, adds Focus more copies of the decisive states: the
	// SNN's states within FocusWindow steps of its first action that differs
	// from the teacher's, and the teacher's last FocusTail states of its
	// own episode (labelled by the teacher). 0: no pairing (the default:
	// on four zoo policies Focus 4-12 did not bring the SNN's returns closer
	// to the teacher's than the plain rounds; see issue 13's notes).
	Focus, FocusWindow, FocusTail int
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
	// With Focus: of the round's episodes paired with the teacher's, the
	// share whose lengths differ and the SNN's mean return over the teacher's.
	PairedLengthDiffers float64 `json:"paired_length_differs,omitempty"`
	PairedReturnRatio   float64 `json:"paired_return_ratio,omitempty"`
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
// visited states, the student retrains on all) and converts the kept one.
func Distill(e env.Env, teacher *model.Network, calib States, o DistillOptions) (*Distillation, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ds, err := newDistiller(e, teacher, calib, o)
	if err != nil {
		return nil, err
	}
	student, acc, err := ds.train(o.Init, o.FirstEpochs, o.Seed)
	if err != nil {
		return nil, err
	}
	ds.report(DistillStatus{Rounds: o.Rounds, Done: true, Student: student, States: ds.data.Rows(), Accuracy: acc})
	ds.kept = keptStudent{student: student, acc: acc, agreement: -1}
	stopped := false
	for round := 1; round <= o.Rounds; round++ {
		if student, acc, stopped, err = ds.round(round, student, acc); err != nil {
			return nil, err
		}
		if stopped {
			break
		}
	}
	return ds.finish(student, acc, stopped)
}

// check refuses options Distill cannot run with, naming the values.
func (o DistillOptions) check() error {
	if o.Train == nil {
		return errors.New("convert: distill: no student trainer")
	}
	if o.Focus < 0 || o.FocusWindow < 0 || o.FocusTail < 0 {
		return fmt.Errorf("convert: distill: focus %d copies, window %d, tail %d: want >= 0", o.Focus, o.FocusWindow, o.FocusTail)
	}
	if o.TeacherEpisodes < 0 || !(o.StopAgreement >= 0 && o.StopAgreement <= 1) {
		return fmt.Errorf("convert: distill: %d teacher episodes and stop agreement %v: want >= 0 and 0..1", o.TeacherEpisodes, o.StopAgreement)
	}
	if o.Rounds < 0 || o.Episodes < 1 || o.FirstEpochs < 1 || o.RoundEpochs < 1 {
		return fmt.Errorf("convert: distill: %d rounds of %d episodes and %d epochs (first student %d): want rounds >= 0, the others >= 1",
			o.Rounds, o.Episodes, o.RoundEpochs, o.FirstEpochs)
	}
	if !(o.Softness >= 0) || math.IsInf(o.Softness, 0) {
		return fmt.Errorf("convert: distill: softness %v, want >= 0 (0: hard labels)", o.Softness)
	}
	return nil
}

// keptStudent is the student Distill would keep so far, its SNN (nil until
// measured), accuracy, round and measured own-trajectory agreement.
type keptStudent struct {
	student   *model.Network
	snn       *snn.Network
	acc       float64
	round     int
	agreement float64
}

// distiller holds one Distill run's growing data set: the states, the
// teacher's labels on them, and the result so far.
type distiller struct {
	e       env.Env
	teacher *model.Network
	o       DistillOptions
	data    States
	labels  []int
	classes int
	d       Distillation
	kept    keptStudent
}

// newDistiller copies calib, adds the teacher's own episodes and labels
// every state with the teacher's action.
func newDistiller(e env.Env, teacher *model.Network, calib States, o DistillOptions) (*distiller, error) {
	ds := &distiller{e: e, teacher: teacher, o: o, classes: teacher.OutputSize(),
		data: States{Data: append([]float32(nil), calib.Data...), Width: calib.Width}}
	if o.TeacherEpisodes > 0 {
		own, err := Record(e, teacher, RecordOptions{Episodes: o.TeacherEpisodes, Seed: o.Seed*1000 + 999})
		if err != nil {
			return nil, err
		}
		ds.data.Data = append(ds.data.Data, own.States...)
	}
	ds.labels = LabelStates(teacher, ds.data)
	return ds, nil
}

func (ds *distiller) report(s DistillStatus) {
	if ds.o.Progress != nil {
		ds.o.Progress(s)
	}
}

// train trains a student on all states so far (soft targets when
// o.Softness > 0).
func (ds *distiller) train(init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
	var targets []float32
	if ds.o.Softness > 0 {
		targets = SoftTargets(ds.teacher, ds.data, ds.o.Softness)
	}
	return ds.o.Train(ds.data, ds.labels, targets, ds.classes, init, epochs, seed)
}

// play runs the student's SNN for one batch of episodes labelled by the
// teacher and returns them with the SNN's agreement with the labels.
func (ds *distiller) play(student *model.Network, seed uint64) (*Recording, *snn.Network, float64, error) {
	s, _, err := Convert(student, ds.data, ds.o.Convert)
	if err != nil {
		return nil, nil, 0, err
	}
	actor, err := NewSNNPolicy(s, ds.o.Timesteps)
	if err != nil {
		return nil, nil, 0, err
	}
	rec, err := Record(ds.e, ds.teacher, RecordOptions{Episodes: ds.o.Episodes, Seed: seed, Actor: actor})
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

// consider keeps st when its measured agreement is at least the kept one's.
func (ds *distiller) consider(round int, st *model.Network, s *snn.Network, acc, agreement float64) {
	if agreement >= ds.kept.agreement {
		ds.kept = keptStudent{student: st, snn: s, acc: acc, round: round, agreement: agreement}
	}
}

// pair plays the teacher's greedy episodes from the initial states of
// rec (seed) and pairs them with rec's (o.Focus > 0; nil otherwise).
func (ds *distiller) pair(rec *Recording, seed uint64) (*pairing, error) {
	if ds.o.Focus <= 0 {
		return nil, nil
	}
	own, err := Record(ds.e, ds.teacher, RecordOptions{Episodes: ds.o.Episodes, Seed: seed})
	if err != nil {
		return nil, err
	}
	p := pairEpisodes(rec, own, ds.o.FocusWindow, ds.o.FocusTail)
	return &p, nil
}

// round measures the student's SNN on a batch of episodes (stopping when it
// reaches o.StopAgreement), adds the visited states and retrains.
func (ds *distiller) round(round int, student *model.Network, acc float64) (*model.Network, float64, bool, error) {
	o := ds.o
	ds.report(DistillStatus{Round: round, Rounds: o.Rounds})
	seed := o.Seed*1000 + uint64(round)
	rec, s, agreement, err := ds.play(student, seed)
	if err != nil {
		return nil, 0, false, err
	}
	p, err := ds.pair(rec, seed)
	if err != nil {
		return nil, 0, false, err
	}
	ds.consider(round-1, student, s, acc, agreement)
	if o.StopAgreement > 0 && agreement >= o.StopAgreement {
		return student, acc, true, nil
	}
	ds.data.Data = append(ds.data.Data, rec.States...)
	ds.labels = append(ds.labels, rec.Actions...)
	if p != nil {
		for range o.Focus {
			ds.data.Data = append(ds.data.Data, p.Focus...)
			ds.labels = append(ds.labels, p.Labels...)
		}
	}
	if student, acc, err = ds.train(student, o.RoundEpochs, o.Seed+uint64(round)); err != nil {
		return nil, 0, false, err
	}
	mean, _ := MeanStd(rec.Returns)
	r := DistillRound{Round: round, SNNReturnsMean: mean, NewStates: rec.Rows(), LabelAgreement: agreement, Accuracy: acc}
	if p != nil {
		r.PairedLengthDiffers, r.PairedReturnRatio = p.LengthDiffers, p.Ratio
	}
	ds.d.Rounds = append(ds.d.Rounds, r)
	ds.report(DistillStatus{Round: round, Rounds: o.Rounds, Done: true, Student: student, States: ds.data.Rows(), Accuracy: acc, Result: r})
	return student, acc, false, nil
}

// finish picks the kept student (the last one unless o.Select; with Select
// the last one is measured once more unless the rounds stopped early) and
// converts it.
func (ds *distiller) finish(student *model.Network, acc float64, stopped bool) (*Distillation, error) {
	o, d := ds.o, &ds.d
	if !o.Select {
		ds.kept = keptStudent{student: student, acc: acc, round: len(d.Rounds)}
	} else if !stopped {
		rec, s, agreement, err := ds.play(student, o.Seed*1000+uint64(o.Rounds)+1)
		if err != nil {
			return nil, err
		}
		mean, _ := MeanStd(rec.Returns)
		d.FinalCheck = &DistillRound{Round: o.Rounds + 1, SNNReturnsMean: mean, LabelAgreement: agreement, Accuracy: acc}
		ds.consider(len(d.Rounds), student, s, acc, agreement)
	}
	k := ds.kept
	if k.snn == nil {
		var err error
		if k.snn, _, err = Convert(k.student, ds.data, o.Convert); err != nil {
			return nil, err
		}
	}
	d.Student, d.SNN, d.States, d.Accuracy = k.student, k.snn, ds.data, k.acc
	d.Kept, d.KeptAgreement = k.round, max(k.agreement, 0)
	return d, nil
}
