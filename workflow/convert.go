package workflow

import (
	"fmt"
	"io"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/train"
)

// ConvertOptions says which ANN file to convert, with which method and
// settings, into which SNN file.
type ConvertOptions struct {
	Model  string // the ANN (.safetensors or PyTorch .pt)
	Calib  string // recorded states (.npz, array states)
	Method string // distill, baseline, neuron or calibrate
	// Timesteps: the SNN's default T, and the T of calibration and DAgger.
	Timesteps int
	// Percentile of the activations mapped to the threshold; nil: the
	// method's (99.9 baseline, 100 otherwise).
	Percentile *float64
	// Copies of every spiking neuron (0: the method's, 2 for distill, else 1).
	Copies int
	Env    string // environment of the DAgger episodes
	// Distillation: the student classifier, its DAgger rounds and selection.
	Classifier     train.ClassifierConfig
	DaggerRounds   int
	DaggerEpisodes int
	DaggerEpochs   int
	Select         bool
	MaxUpdates     int     // at most this many updates per training (0: no cap)
	StopAgreement  float64 // end the rounds at this own-trajectory agreement (0: never)
	// Softness: train on the teacher's Q-values softened by this times their
	// median top-two gap (0: on its actions only).
	Softness        float64
	TeacherEpisodes int    // greedy episodes of the teacher trained on too
	StudentInit     string // random or teacher
	StudentOut      string // also save the final student here ("": no)
	Out             string // the spiking model file to write
	Progress        StepProgress
}

// DefaultConvertOptions is the default recipe: distill at T = 16 with
// convert's default student (convert.DefaultStudentRecipe) and DAgger
// settings (convert.DefaultDistillOptions), measured on the policy zoo.
func DefaultConvertOptions() ConvertOptions {
	r, d := convert.DefaultStudentRecipe(), convert.DefaultDistillOptions()
	c := train.DefaultClassifierConfig()
	c.Hidden, c.Epochs, c.Batch, c.ClipFloor = r.Hidden, r.Epochs, r.Batch, r.ClipFloor
	c.LR, c.LRFinal, c.Standardize, c.Seed = r.LR, r.LRFinal, r.Standardize, d.Seed
	return ConvertOptions{Model: "model.safetensors", Calib: "states.npz", Method: string(convert.MethodDistill), Timesteps: 16,
		Env: "cartpole-v1", Classifier: c, DaggerRounds: d.Rounds, DaggerEpisodes: d.Episodes, DaggerEpochs: d.RoundEpochs, Select: d.Select,
		MaxUpdates: r.MaxUpdates, TeacherEpisodes: d.TeacherEpisodes, Softness: d.Softness, StudentInit: "random"}
}

// ConvertResult is what Convert wrote and measured (convert --json).
type ConvertResult struct {
	Out       string `json:"out"`
	Model     string `json:"-"` // the converted network (in the text only)
	Method    string `json:"method"`
	Timesteps int    `json:"timesteps"`
	Sizes     string `json:"sizes"`
	// AgreementSource: share of the calibration states on which the SNN at
	// T picks the action of the network it was converted from (the student
	// for distill); AgreementSourceT64 the same at T = 64.
	AgreementSource    float64 `json:"agreement_source"`
	AgreementSourceT64 float64 `json:"agreement_source_t64"`
	// AgreementModel: the same against Model (the teacher).
	AgreementModel  float64                `json:"agreement_model"`
	StudentAccuracy *float64               `json:"student_accuracy,omitempty"`
	States          int                    `json:"states"`
	Rounds          []convert.DistillRound `json:"dagger_rounds,omitempty"`
	// KeptRound is the DAgger round whose student was kept (0: the first
	// student) and KeptAgreement its SNN's measured own-trajectory agreement
	// with the model; FinalCheck measures the last student (Select).
	KeptRound     *int                  `json:"kept_round,omitempty"`
	KeptAgreement *float64              `json:"kept_agreement,omitempty"`
	FinalCheck    *convert.DistillRound `json:"final_check,omitempty"`
}

// WriteText writes the result for people: one line.
func (r ConvertResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s: %s SNN (%s) from %s; on %d states at T=%d it agrees with its source on %.2f%% (T=64: %.2f%%), with %s on %.2f%%\n",
		r.Out, r.Sizes, r.Method, r.Model, r.States, r.Timesteps, 100*r.AgreementSource, 100*r.AgreementSourceT64, r.Model, 100*r.AgreementModel)
	return err
}

// Convert converts opts.Model and writes the SNN file (and the student).
func Convert(opts ConvertOptions) (ConvertResult, error) {
	cOpts, err := checkConvertOptions(opts)
	if err != nil {
		return ConvertResult{}, err
	}
	teacher, err := formats.LoadANN(opts.Model)
	if err != nil {
		return ConvertResult{}, err
	}
	calib, _, err := LoadStates(opts.Calib, teacher.InputSize())
	if err != nil {
		return ConvertResult{}, err
	}
	res := ConvertResult{Out: opts.Out, Model: opts.Model, Method: opts.Method, Timesteps: opts.Timesteps}
	source, distilled := teacher, convert.Method(opts.Method) == convert.MethodDistill
	var s *snn.Network
	var final convert.States
	if distilled {
		d, err := distill(opts, teacher, calib, cOpts)
		if err != nil {
			return ConvertResult{}, err
		}
		source, s, final, res.Rounds = d.Student, d.SNN, d.States, d.Rounds
		res.KeptRound, res.KeptAgreement, res.FinalCheck = &d.Kept, &d.KeptAgreement, d.FinalCheck
		acc := d.Accuracy
		res.StudentAccuracy = &acc
	} else {
		final = calib
		if s, _, err = convert.Convert(teacher, calib, cOpts); err != nil {
			return ConvertResult{}, fmt.Errorf("%s: %w", opts.Model, err)
		}
	}
	res.States = final.Rows()
	res.Sizes = s.String()
	if err := measureConversion(&res, opts, teacher, source, s, final); err != nil {
		return ConvertResult{}, err
	}
	return res, saveConversion(opts, cOpts, source, s)
}

// checkConvertOptions checks opts and gives the method's conversion options.
func checkConvertOptions(opts ConvertOptions) (convert.Options, error) {
	if opts.Timesteps <= 0 {
		return convert.Options{}, invalidf("{Timesteps} %d: want T > 0", opts.Timesteps)
	}
	if opts.DaggerRounds < 0 || opts.DaggerEpisodes < 1 || opts.DaggerEpochs < 1 {
		return convert.Options{}, invalidf("{DaggerRounds} must be >= 0, {DaggerEpisodes} and {DaggerEpochs} >= 1")
	}
	if opts.TeacherEpisodes < 0 || opts.TeacherEpisodes > MaxEpisodes || opts.MaxUpdates < 0 || opts.Copies < 0 || !(opts.StopAgreement >= 0 && opts.StopAgreement <= 1) {
		return convert.Options{}, invalidf("{TeacherEpisodes} %d (at most %d), {MaxUpdates} %d and {Copies} %d must be >= 0, {StopAgreement} %v within 0..1",
			opts.TeacherEpisodes, MaxEpisodes, opts.MaxUpdates, opts.Copies, opts.StopAgreement)
	}
	method := convert.Method(opts.Method)
	cOpts, err := convert.MethodOptions(method, opts.Timesteps, opts.Classifier.ClipFloor)
	if err != nil {
		return cOpts, invalidf("{Method} %q: want %s, %s, %s or %s", opts.Method, convert.MethodDistill, convert.MethodBaseline, convert.MethodNeuron, convert.MethodCalibrate)
	}
	if opts.Percentile != nil {
		cOpts.Percentile = *opts.Percentile
	}
	cOpts.Copies = opts.Copies
	if opts.Copies == 0 && method == convert.MethodDistill {
		// Two copies resolve the student's rates twice as finely: measured on
		// the policy zoo, agreement with the student at T = 8 rose from
		// 94-96 % to 97-98 % (bench/fidelity.sh).
		cOpts.Copies = 2
	}
	return cOpts, nil
}

// measureConversion fills res's agreements of the SNN with its source and
// the teacher on the final states.
func measureConversion(res *ConvertResult, opts ConvertOptions, teacher, source *model.Network, s *snn.Network, final convert.States) error {
	sourceLabels := convert.LabelStates(source, final)
	if convert.Method(opts.Method) == convert.MethodDistill && opts.Classifier.ClipFloor > 0 {
		// The student is its clipped network (no rounding), the T -> infinity
		// limit of its SNN.
		q := make([]float32, source.OutputSize())
		clipped := model.ClipFloorPredictor(source, 0)
		for r := range sourceLabels {
			clipped(q, final.Row(r))
			sourceLabels[r] = model.Argmax(q)
		}
	}
	var err error
	if res.AgreementSource, err = convert.AgreementWithLabels(s, final, sourceLabels, opts.Timesteps); err != nil {
		return err
	}
	if res.AgreementSourceT64, err = convert.AgreementWithLabels(s, final, sourceLabels, 64); err != nil {
		return err
	}
	res.AgreementModel, err = convert.Agreement(teacher, s, final, opts.Timesteps)
	return err
}

// saveConversion writes the SNN file (and, for distill, the student) with
// the settings that made them.
func saveConversion(opts ConvertOptions, cOpts convert.Options, source *model.Network, s *snn.Network) error {
	distilled := convert.Method(opts.Method) == convert.MethodDistill
	settings := map[string]string{"method": opts.Method, "timesteps": fmt.Sprint(opts.Timesteps),
		"normalization": string(cOpts.Normalization), "percentile": fmt.Sprint(cOpts.Percentile),
		"calibration_rounds": fmt.Sprint(cOpts.CalibrationRounds), "calib": opts.Calib,
		"initial_membrane": fmt.Sprint(cOpts.InitialMembrane), "reset": string(cOpts.Reset), "copies": fmt.Sprint(max(cOpts.Copies, 1))}
	if distilled {
		for k, v := range ClassifierSettings(opts.Classifier, opts.Model) {
			settings["distill_"+k] = v
		}
		for k, v := range map[string]any{"dagger_rounds": opts.DaggerRounds, "dagger_episodes": opts.DaggerEpisodes,
			"dagger_epochs": opts.DaggerEpochs, "student_init": opts.StudentInit, "distill_standardize": opts.Classifier.Standardize,
			"distill_lr_final": opts.Classifier.LRFinal, "max_updates": opts.MaxUpdates, "select": opts.Select,
			"stop_agreement": opts.StopAgreement, "teacher_episodes": opts.TeacherEpisodes, "softness": opts.Softness, "env": opts.Env} {
			settings[k] = fmt.Sprint(v)
		}
		if opts.StudentOut != "" {
			// The student file carries the classifier's own setting names
			// (clip_floor tells Compare's Source how to run it).
			meta := formats.ModelMeta{Input: formats.IOSpec{Meaning: "observation"}, Output: formats.IOSpec{Meaning: "action logits"},
				Provenance: formats.Provenance{Source: opts.Model, Tool: "spikebridge convert --method distill",
					Settings: ClassifierSettings(opts.Classifier, opts.Model)}}
			if err := formats.SaveModel(opts.StudentOut, source, meta); err != nil {
				return err
			}
		}
	}
	meta := formats.SNNMeta{Input: formats.IOSpec{Meaning: "observation"}, Output: formats.IOSpec{Meaning: "q-values"},
		Provenance: formats.Provenance{Source: opts.Model, Tool: "spikebridge convert", Settings: settings}}
	if distilled {
		meta.Output.Meaning = "action logits"
	}
	return formats.SaveSNN(opts.Out, s, meta)
}

// ClassifierSettings are a classifier's settings as a model file's
// provenance records them (teacher: the file its labels came from).
func ClassifierSettings(c train.ClassifierConfig, teacher string) map[string]string {
	return map[string]string{"hidden": fmt.Sprint(c.Hidden), "epochs": fmt.Sprint(c.Epochs), "batch": fmt.Sprint(c.Batch),
		"lr": fmt.Sprint(c.LR), "seed": fmt.Sprint(c.Seed), "clip_floor": fmt.Sprint(c.ClipFloor), "teacher": teacher}
}

// distill maps the distill options onto convert.Distill, with train's
// classifier as the student trainer.
func distill(opts ConvertOptions, teacher *model.Network, calib convert.States, cOpts convert.Options) (*convert.Distillation, error) {
	e, err := env.Make(opts.Env)
	if err != nil {
		return nil, invalidf("{Env}: %v", err)
	}
	cfg := opts.Classifier
	dOpts := convert.DistillOptions{Convert: cOpts, Timesteps: opts.Timesteps, Rounds: opts.DaggerRounds,
		Episodes: opts.DaggerEpisodes, FirstEpochs: cfg.Epochs, RoundEpochs: opts.DaggerEpochs, Seed: cfg.Seed, Init: cfg.Init,
		Train: classifierTrainer(cfg, opts.MaxUpdates), Select: opts.Select, StopAgreement: opts.StopAgreement,
		TeacherEpisodes: opts.TeacherEpisodes, Softness: opts.Softness}
	switch opts.StudentInit {
	case "random":
	case "teacher":
		// The teacher rescaled so that its activations on the states stay
		// within the clip (the same function): the student starts as the
		// teacher, in the teacher's own sizes.
		init, err := convert.Normalized(teacher, calib, 100)
		if err != nil {
			return nil, &OptionError{Msg: opts.Model + ": {StudentInit} teacher", Err: err}
		}
		dOpts.Init = init
	default:
		return nil, invalidf("{StudentInit} %q: want teacher or random", opts.StudentInit)
	}
	prog := stepsOrNone(opts.Progress)
	prog.Begin("distill", opts.DaggerRounds)
	defer prog.End()
	dOpts.Progress = func(st convert.DistillStatus) {
		switch {
		case st.Round == 0:
			prog.Note(fmt.Sprintf("student %s, %d states, accuracy %.4f", st.Student, st.States, st.Accuracy))
		case !st.Done:
			prog.At(st.Round-1, fmt.Sprintf("DAgger round %d of %d", st.Round, st.Rounds))
		default:
			r := st.Result
			prog.Note(fmt.Sprintf("DAgger round %d: SNN return %.1f, %d new states (SNN = teacher on %.3f), student accuracy %.4f on %d",
				r.Round, r.SNNReturnsMean, r.NewStates, r.LabelAgreement, r.Accuracy, st.States))
		}
	}
	return convert.Distill(e, teacher, calib, dOpts)
}

// classifierTrainer is train.TrainClassifier with cfg's settings as
// convert's student trainer. maxUpdates > 0 caps the updates of every
// training: fewer epochs where the DAgger rounds have gathered many states
// (long episodes), so a conversion takes about as long for any policy.
func classifierTrainer(cfg train.ClassifierConfig, maxUpdates int) convert.StudentTrainer {
	return func(states convert.States, labels []int, targets []float32, classes int, init *model.Network, epochs int, seed uint64) (*model.Network, float64, error) {
		c := cfg
		c.Init, c.Epochs, c.Seed, c.Targets = init, epochs, seed, targets
		if perEpoch := max(states.Rows()/max(c.Batch, 1), 1); maxUpdates > 0 && epochs*perEpoch > maxUpdates {
			c.Epochs = max(maxUpdates/perEpoch, 1)
		}
		if init != nil {
			// A student that starts from a network has its sizes.
			sizes := init.Sizes()
			c.Hidden = sizes[1 : len(sizes)-1]
		}
		net, res, err := train.TrainClassifier(states.Data, states.Width, labels, classes, c)
		return net, res.Accuracy, err
	}
}
