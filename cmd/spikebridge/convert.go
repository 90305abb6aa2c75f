package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/train"
)

// ConvertOptions holds the flags of `spikebridge convert`.
type ConvertOptions struct {
	IO         *IOStreams
	Model      string
	Calib      string
	Method     string
	Timesteps  int
	Percentile float64
	Copies     int
	Env        string
	// Distillation.
	Classifier     train.ClassifierConfig
	DaggerRounds   int
	DaggerEpisodes int
	DaggerEpochs   int
	Select         bool
	MaxUpdates     int
	StopAgreement  float64
	Softness       float64
	TeacherEps     int
	StudentInit    string
	StudentOut     string
	Out            string
	JSON           bool
	percentileSet  bool
}

// NewCmdConvert parses flags into ConvertOptions; runF replaces runConvert in tests.
func NewCmdConvert(ios *IOStreams, runF func(*ConvertOptions) error) *cobra.Command {
	opts := &ConvertOptions{IO: ios, Classifier: train.DefaultClassifierConfig()}
	// Measured on the policy zoo (bench/policy_zoo.sh, bench/fidelity.sh):
	// students trained on raw CartPole inputs fit the teacher on only 92-96 %
	// of its own states (the pole angle is ~10x smaller than the velocities);
	// standardized inputs, lr 3e-3 decaying to 1e-5, 150 epochs and 3 DAgger
	// rounds of 30 (at most 4000 updates each), the best measured student
	// kept and two copies per neuron raised own-trajectory agreement at
	// T = 16 from 89.7-98.1 % to the figures in the README. Clip-floor
	// activations at 16 levels, converted with unit scales, as before.
	opts.Classifier.Epochs = 150
	opts.Classifier.Batch = 256
	opts.Classifier.ClipFloor = 16
	opts.Classifier.LR, opts.Classifier.LRFinal = 3e-3, 1e-5
	opts.Classifier.Standardize = true
	c := &opts.Classifier
	cmd := &cobra.Command{
		Use:   "convert --model M --calib states.npz [--method distill|baseline|neuron|calibrate] [--timesteps T] -o snn.safetensors",
		Short: "Convert a Q-network into a spiking network (IF neurons, membrane readout)",
		Long: `Convert an ANN into a rate-coded spiking network using recorded states (spikebridge
record) for normalisation.

Methods:
  baseline   DESIGN.md's baseline: layer-wise 99.9th-percentile scales, threshold 1,
             v(0) = θ/2, reset by subtraction, membrane-integrator readout.
  neuron     neuron-wise max normalisation.
  calibrate  neuron, then the biases are calibrated at --timesteps on the states.
  distill    (default) train a student classifier on the states relabelled with the
             model's actions (Gorgonia, cross-entropy, standardized inputs,
             activations clipped to [0,1] and rounded to --clip-floor levels), then
             --dagger-rounds times: convert it, play --dagger-episodes with its SNN
             at --timesteps, label the visited states with the model and retrain on
             all; the student whose SNN agreed most with the model on its own
             episodes is kept (--select) and converted with --copies 2. With
             --clip-floor > 0 the scales are 1 (threshold = the clip); with
             --clip-floor 0, neuron-wise max normalisation.`,
		Example: `  spikebridge convert --model policy.pt --calib states.npz -o snn.safetensors
  spikebridge convert --model policy.pt --calib states.npz --method baseline --timesteps 64 -o base.safetensors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE.safetensors is required")
			}
			opts.percentileSet = cmd.Flags().Changed("percentile")
			if runF != nil {
				return runF(opts)
			}
			return runConvert(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Model, "model", "model.safetensors", "Q-network to convert (.safetensors or PyTorch .pt)")
	f.StringVar(&opts.Calib, "calib", "states.npz", "recorded states (.npz, array states)")
	f.StringVar(&opts.Method, "method", string(convert.MethodDistill), "conversion method: distill, baseline, neuron or calibrate")
	f.IntVar(&opts.Timesteps, "timesteps", 16, "default T of the SNN (and the T of calibration and DAgger)")
	f.Float64Var(&opts.Percentile, "percentile", 0, "percentile of the activations mapped to the threshold (default: 99.9 baseline, 100 otherwise)")
	f.StringVar(&opts.Env, "env", "cartpole-v1", "environment of the DAgger episodes")
	f.IntVar(&opts.Copies, "copies", 0, "copies of every spiking neuron at staggered initial membranes: k times the rate resolution at the same T, for k times the spikes (0 = the method's: 2 for distill, else 1)")
	f.IntSliceVar(&c.Hidden, "hidden", c.Hidden, "distill: student hidden widths")
	f.IntVar(&c.Epochs, "epochs", c.Epochs, "distill: epochs of the first student")
	f.IntVar(&c.Batch, "batch", c.Batch, "distill: mini-batch size")
	f.Float64Var(&c.LR, "lr", c.LR, "distill: Adam learning rate")
	f.Float64Var(&c.LRFinal, "lr-final", c.LRFinal, "distill: learning rate reached linearly at each training's last update (0 = constant --lr)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "distill: seed of training and DAgger episodes")
	f.IntVar(&c.ClipFloor, "clip-floor", c.ClipFloor, "distill: quantisation-aware activations with this many levels; 0 = off")
	f.BoolVar(&c.Standardize, "standardize", c.Standardize, "distill: train on inputs standardised per column (folded into the first layer afterwards)")
	f.IntVar(&opts.DaggerRounds, "dagger-rounds", 3, "distill: DAgger rounds (0 = plain distillation)")
	f.IntVar(&opts.DaggerEpisodes, "dagger-episodes", 20, "distill: SNN episodes recorded per DAgger round")
	f.IntVar(&opts.DaggerEpochs, "dagger-epochs", 30, "distill: epochs of retraining per DAgger round")
	f.IntVar(&opts.MaxUpdates, "max-updates", 4000, "distill: at most this many updates per training (fewer epochs on many states; 0 = no cap)")
	f.BoolVar(&opts.Select, "select", true, "distill: keep the student whose SNN agreed most with the model on its own DAgger episodes (the last one is measured on one more batch)")
	f.IntVar(&opts.TeacherEps, "teacher-episodes", 60, "distill: also train on this many greedy episodes of the model itself (DAgger adds the SNN's)")
	f.Float64Var(&opts.StopAgreement, "stop-agreement", 0, "distill: end the DAgger rounds once the SNN agrees with the model on this share of its own states (0 = never)")
	f.Float64Var(&opts.Softness, "softness", convert.DefaultSoftness, "distill: train on the model's Q-values softened by this times their median top-two gap (0 = its actions only)")
	f.StringVar(&opts.StudentInit, "student-init", "random", "distill: start the student at random (random) or as the teacher rescaled into the clip, in its sizes (teacher; measured worse on the zoo)")
	f.StringVar(&opts.StudentOut, "student-out", "", "distill: also save the final student ANN here")
	f.StringVarP(&opts.Out, "output", "o", "", "output spiking model file (.safetensors)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

// convertResult is the --json document of convert.
type convertResult struct {
	Out       string `json:"out"`
	Method    string `json:"method"`
	Timesteps int    `json:"timesteps"`
	Sizes     string `json:"sizes"`
	// AgreementSource: share of the calibration states on which the SNN at
	// T picks the action of the network it was converted from (the student
	// for distill); AgreementSourceT64 the same at T = 64.
	AgreementSource    float64 `json:"agreement_source"`
	AgreementSourceT64 float64 `json:"agreement_source_t64"`
	// AgreementModel: the same against --model (the teacher).
	AgreementModel  float64                `json:"agreement_model"`
	StudentAccuracy *float64               `json:"student_accuracy,omitempty"`
	States          int                    `json:"states"`
	Rounds          []convert.DistillRound `json:"dagger_rounds,omitempty"`
	// KeptRound is the DAgger round whose student was kept (0: the first
	// student) and KeptAgreement its SNN's measured own-trajectory agreement
	// with the model; FinalCheck measures the last student (--select).
	KeptRound     *int                  `json:"kept_round,omitempty"`
	KeptAgreement *float64              `json:"kept_agreement,omitempty"`
	FinalCheck    *convert.DistillRound `json:"final_check,omitempty"`
}

func runConvert(opts *ConvertOptions) error {
	res, err := convertToFile(opts)
	if err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(res)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s: %s SNN (%s) from %s; on %d states at T=%d it agrees with its source on %.2f%% (T=64: %.2f%%), with %s on %.2f%%\n",
		opts.Out, res.Sizes, opts.Method, opts.Model, res.States, opts.Timesteps, 100*res.AgreementSource,
		100*res.AgreementSourceT64, opts.Model, 100*res.AgreementModel)
	return err
}

// convertToFile converts opts.Model and writes the SNN file (and the student).
func convertToFile(opts *ConvertOptions) (convertResult, error) {
	if opts.Timesteps <= 0 {
		return convertResult{}, usageErrorf("--timesteps %d: want T > 0", opts.Timesteps)
	}
	if opts.DaggerRounds < 0 || opts.DaggerEpisodes < 1 || opts.DaggerEpochs < 1 {
		return convertResult{}, usageErrorf("--dagger-rounds must be >= 0, --dagger-episodes and --dagger-epochs >= 1")
	}
	if opts.TeacherEps < 0 || opts.TeacherEps > maxCLIEpisodes || opts.MaxUpdates < 0 || opts.Copies < 0 || !(opts.StopAgreement >= 0 && opts.StopAgreement <= 1) {
		return convertResult{}, usageErrorf("--teacher-episodes %d (at most %d), --max-updates %d and --copies %d must be >= 0, --stop-agreement %v within 0..1",
			opts.TeacherEps, maxCLIEpisodes, opts.MaxUpdates, opts.Copies, opts.StopAgreement)
	}
	method := convert.Method(opts.Method)
	cOpts, err := convert.MethodOptions(method, opts.Timesteps, opts.Classifier.ClipFloor)
	if err != nil {
		return convertResult{}, usageErrorf("--method %q: want %s, %s, %s or %s", opts.Method, convert.MethodDistill, convert.MethodBaseline, convert.MethodNeuron, convert.MethodCalibrate)
	}
	teacher, err := formats.LoadANN(opts.Model)
	if err != nil {
		return convertResult{}, err
	}
	calib, _, err := loadStates(opts.Calib, teacher.InputSize())
	if err != nil {
		return convertResult{}, err
	}
	if opts.percentileSet {
		cOpts.Percentile = opts.Percentile
	}
	cOpts.Copies = opts.Copies
	if opts.Copies == 0 && method == convert.MethodDistill {
		// Two copies resolve the student's rates twice as finely: measured on
		// the policy zoo, agreement with the student at T = 8 rose from
		// 94-96 % to 97-98 % (bench/fidelity.sh).
		cOpts.Copies = 2
	}
	res := convertResult{Out: opts.Out, Method: opts.Method, Timesteps: opts.Timesteps}
	source := teacher
	var s *snn.Network
	var final convert.States
	if method == convert.MethodDistill {
		// Progress goes to stderr even with --json: stdout holds the document.
		d, err := distill(opts, teacher, calib, cOpts, opts.IO.ErrOut)
		if err != nil {
			return convertResult{}, err
		}
		source, s, final, res.Rounds = d.Student, d.SNN, d.States, d.Rounds
		res.KeptRound, res.KeptAgreement, res.FinalCheck = &d.Kept, &d.KeptAgreement, d.FinalCheck
		acc := d.Accuracy
		res.StudentAccuracy = &acc
	} else {
		final = calib
		if s, _, err = convert.Convert(teacher, calib, cOpts); err != nil {
			return convertResult{}, fmt.Errorf("%s: %w", opts.Model, err)
		}
	}
	res.States = final.Rows()
	res.Sizes = s.String()
	sourceLabels := convert.LabelStates(source, final)
	if method == convert.MethodDistill && opts.Classifier.ClipFloor > 0 {
		// The student is its clipped network (no rounding), the T -> infinity
		// limit of its SNN.
		q := make([]float32, source.OutputSize())
		clipped := model.ClipFloorPredictor(source, 0)
		for r := range sourceLabels {
			clipped(q, final.Row(r))
			sourceLabels[r] = model.Argmax(q)
		}
	}
	if res.AgreementSource, err = convert.AgreementWithLabels(s, final, sourceLabels, opts.Timesteps); err != nil {
		return convertResult{}, err
	}
	if res.AgreementSourceT64, err = convert.AgreementWithLabels(s, final, sourceLabels, 64); err != nil {
		return convertResult{}, err
	}
	if res.AgreementModel, err = convert.Agreement(teacher, s, final, opts.Timesteps); err != nil {
		return convertResult{}, err
	}
	return res, saveConversion(opts, cOpts, source, s)
}

// saveConversion writes the SNN file (and, for distill, the student) with
// the settings that made them.
func saveConversion(opts *ConvertOptions, cOpts convert.Options, source *model.Network, s *snn.Network) error {
	distilled := convert.Method(opts.Method) == convert.MethodDistill
	settings := map[string]string{"method": opts.Method, "timesteps": fmt.Sprint(opts.Timesteps),
		"normalization": string(cOpts.Normalization), "percentile": fmt.Sprint(cOpts.Percentile),
		"calibration_rounds": fmt.Sprint(cOpts.CalibrationRounds), "calib": opts.Calib,
		"initial_membrane": fmt.Sprint(cOpts.InitialMembrane), "reset": string(cOpts.Reset), "copies": fmt.Sprint(max(cOpts.Copies, 1))}
	if distilled {
		for k, v := range classifierSettings(opts.Classifier, opts.Model) {
			settings["distill_"+k] = v
		}
		settings["dagger_rounds"] = fmt.Sprint(opts.DaggerRounds)
		settings["dagger_episodes"] = fmt.Sprint(opts.DaggerEpisodes)
		settings["dagger_epochs"] = fmt.Sprint(opts.DaggerEpochs)
		settings["student_init"] = opts.StudentInit
		settings["distill_standardize"] = fmt.Sprint(opts.Classifier.Standardize)
		settings["distill_lr_final"] = fmt.Sprint(opts.Classifier.LRFinal)
		settings["max_updates"] = fmt.Sprint(opts.MaxUpdates)
		settings["select"] = fmt.Sprint(opts.Select)
		settings["stop_agreement"] = fmt.Sprint(opts.StopAgreement)
		settings["teacher_episodes"] = fmt.Sprint(opts.TeacherEps)
		settings["softness"] = fmt.Sprint(opts.Softness)
		settings["env"] = opts.Env
		if opts.StudentOut != "" {
			// The student file carries the classifier's own setting names
			// (clip_floor tells compare --source how to run it).
			studentSettings := classifierSettings(opts.Classifier, opts.Model)
			meta := formats.ModelMeta{Input: formats.IOSpec{Meaning: "observation"}, Output: formats.IOSpec{Meaning: "action logits"},
				Provenance: formats.Provenance{Source: opts.Model, Tool: "spikebridge convert --method distill", Settings: studentSettings}}
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

// distill maps the distill flags onto convert.Distill, with train's
// classifier as the student trainer and progress on w.
func distill(opts *ConvertOptions, teacher *model.Network, calib convert.States, cOpts convert.Options,
	w io.Writer) (*convert.Distillation, error) {
	e, err := env.Make(opts.Env)
	if err != nil {
		return nil, usageErrorf("--env: %v", err)
	}
	cfg := opts.Classifier
	dOpts := convert.DistillOptions{Convert: cOpts, Timesteps: opts.Timesteps, Rounds: opts.DaggerRounds,
		Episodes: opts.DaggerEpisodes, FirstEpochs: cfg.Epochs, RoundEpochs: opts.DaggerEpochs, Seed: cfg.Seed, Init: cfg.Init,
		Train: classifierTrainer(cfg, opts.MaxUpdates), Select: opts.Select, StopAgreement: opts.StopAgreement,
		TeacherEpisodes: opts.TeacherEps, Softness: opts.Softness}
	switch opts.StudentInit {
	case "random":
	case "teacher":
		// The teacher rescaled so that its activations on the states stay
		// within the clip (the same function): the student starts as the
		// teacher, in the teacher's own sizes.
		init, err := convert.Normalized(teacher, calib, 100)
		if err != nil {
			return nil, fmt.Errorf("%s: --student-init teacher: %w", opts.Model, err)
		}
		dOpts.Init = init
	default:
		return nil, usageErrorf("--student-init %q: want teacher or random", opts.StudentInit)
	}
	prog := newStepProgress(w, "distill", opts.DaggerRounds)
	defer prog.finish()
	dOpts.Progress = func(st convert.DistillStatus) {
		switch {
		case st.Round == 0:
			fmt.Fprintf(w, "distill: student %s, %d states, accuracy %.4f\n", st.Student, st.States, st.Accuracy)
		case !st.Done:
			prog.at(st.Round-1, fmt.Sprintf("DAgger round %d of %d", st.Round, st.Rounds))
		default:
			r := st.Result
			prog.note(fmt.Sprintf("DAgger round %d: SNN return %.1f, %d new states (SNN = teacher on %.3f), student accuracy %.4f on %d",
				r.Round, r.SNNReturnsMean, r.NewStates, r.LabelAgreement, r.Accuracy, st.States))
		}
	}
	return convert.Distill(e, teacher, calib, dOpts)
}

// classifierTrainer is train.TrainClassifier with cfg's settings as
// convert's student trainer.
// maxUpdates > 0 caps the updates of every training: fewer epochs where the
// DAgger rounds have gathered many states (long episodes), so a conversion
// takes about as long for any policy.
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

// The methods' names as the pipeline's results and file names spell them.
var (
	methodBaseline = string(convert.MethodBaseline)
	methodDistill  = string(convert.MethodDistill)
)
