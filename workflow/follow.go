package workflow

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/report"
)

// FollowOptions is a FOLLOW run on the driven van der Pol oscillator:
// Trials training trials, then EvalTrials held-out tests (Warmup seconds
// following, 1 s alone, FreeSeconds free with u = 0). Curve (CSV), Plot and
// RolloutPlot (PNG) are written when set.
type FollowOptions struct {
	Config      learn.FollowConfig
	Trials      int
	EvalTrials  int
	Warmup      float64
	FreeSeconds float64
	Curve       string
	Plot        string
	RolloutPlot string
}

// FollowResult is the result of a run (`learn follow --json`).
type FollowResult struct {
	Config         learn.FollowConfig `json:"config"`
	Trials         int                `json:"trials"`
	TrainSeconds   float64            `json:"train_seconds"`
	ErrorFirst     float64            `json:"error_rms_first_tenth"`
	ErrorLast      float64            `json:"error_rms_last_tenth"`
	ErrorReduction float64            `json:"error_reduction"`
	Eval           learn.FollowEval   `json:"eval"`
	WallSeconds    float64            `json:"wall_s"`
	StepsPerSecond float64            `json:"steps_per_s"`
	CurveFile      string             `json:"curve,omitempty"`
	// FreeSeconds is the length of the free run.
	FreeSeconds float64 `json:"-"`
}

// LearnFollow trains (reporting every trial to progress), tests and writes
// the files o asks for.
func LearnFollow(o FollowOptions, progress func(learn.FollowTrial)) (FollowResult, error) {
	if err := o.Check(); err != nil {
		return FollowResult{}, err
	}
	net, err := learn.NewFollow(o.Config)
	if err != nil {
		return FollowResult{}, err
	}
	start := time.Now()
	curve := net.Train(o.Trials, rand.New(rand.NewPCG(o.Config.Seed, 1)), progress)
	trainWall := time.Since(start).Seconds()
	cycle := func(x []float64, dt, skip float64) (float64, float64, error) {
		c, err := probe.LimitCycle(x, dt, skip)
		return c.Period, c.Amplitude, err
	}
	ev := net.Evaluate(o.EvalTrials, o.Warmup, o.FreeSeconds, rand.New(rand.NewPCG(o.Config.Seed, 2)), cycle)
	tenth := max(1, len(curve)/10)
	mean := func(rs []learn.FollowTrial) float64 {
		s := 0.0
		for _, r := range rs {
			s += r.ErrorRMS
		}
		return s / float64(len(rs))
	}
	steps := float64(o.Trials) * math.Round(o.Config.TrialSeconds/o.Config.Dt)
	res := FollowResult{Config: o.Config, Trials: o.Trials, TrainSeconds: float64(o.Trials) * o.Config.TrialSeconds,
		ErrorFirst: mean(curve[:tenth]), ErrorLast: mean(curve[len(curve)-tenth:]), Eval: ev,
		WallSeconds: time.Since(start).Seconds(), StepsPerSecond: steps / trainWall, FreeSeconds: o.FreeSeconds}
	res.ErrorReduction = res.ErrorFirst / res.ErrorLast
	if o.Curve != "" {
		if err := writeFollowCurve(o.Curve, curve); err != nil {
			return res, err
		}
		res.CurveFile = o.Curve
	}
	return res, writeFollowPlots(o, curve, ev)
}

// Check refuses trial counts, durations and settings that cannot run.
func (o FollowOptions) Check() error {
	switch {
	case o.Trials < 1 || o.Trials > 100000:
		return invalidf("{Trials} %d: want 1 to 100000", o.Trials)
	case o.EvalTrials < 1 || o.EvalTrials > 10000:
		return invalidf("{EvalTrials} %d: want 1 to 10000", o.EvalTrials)
	case !(o.Warmup >= 0 && o.Warmup <= 60) || !(o.FreeSeconds >= 1 && o.FreeSeconds <= 3600):
		return invalidf("{Warmup} %v (0 to 60 s), {FreeSeconds} %v (1 to 3600 s)", o.Warmup, o.FreeSeconds)
	}
	if err := o.Config.Check(); err != nil {
		return &OptionError{Invalid: true, Err: err}
	}
	return nil
}

// WriteText writes the result for people.
func (res FollowResult) WriteText(w io.Writer) error {
	ev := res.Eval
	fmt.Fprintf(w, "FOLLOW, van der Pol mu=%g: %d neurons (+%d input), k=%g, eta=%g, %d trials of %g s (%.0f s simulated, %.0f steps/s)\n",
		res.Config.Mu, res.Config.Neurons, res.Config.InputNeurons, res.Config.Feedback, res.Config.LearningRate,
		res.Trials, res.Config.TrialSeconds, res.TrainSeconds, res.StepsPerSecond)
	fmt.Fprintf(w, "training error RMS (feedback on): first tenth %.4f, last tenth %.4f (%.1fx lower)\n", res.ErrorFirst, res.ErrorLast, res.ErrorReduction)
	fmt.Fprintf(w, "network alone, %d held-out states, 1 s after %.2g s following: NRMSE x %.4f, y %.4f\n",
		ev.Trials, ev.WarmupSeconds, ev.NRMSE1s[0], ev.NRMSE1s[1])
	if ev.FreeError != "" {
		fmt.Fprintf(w, "free run (u = 0, %g s): %s; reference period %.4f s amplitude %.4f\n", res.FreeSeconds, ev.FreeError, ev.ReferencePeriod, ev.ReferenceAmplitude)
	} else {
		fmt.Fprintf(w, "free run (u = 0, %g s): period %.4f s amplitude %.4f; reference period %.4f s amplitude %.4f\n",
			res.FreeSeconds, ev.FreePeriod, ev.FreeAmplitude, ev.ReferencePeriod, ev.ReferenceAmplitude)
	}
	return nil
}

// writeFollowCurve writes the learning curve as CSV: trial, error_rms.
func writeFollowCurve(path string, curve []learn.FollowTrial) error {
	return formats.WriteFileAtomic(path, func(w io.Writer) error {
		if _, err := fmt.Fprintln(w, "trial,error_rms"); err != nil {
			return err
		}
		for _, r := range curve {
			if _, err := fmt.Fprintf(w, "%d,%.6g\n", r.Trial, r.ErrorRMS); err != nil {
				return err
			}
		}
		return nil
	})
}

func writeFollowPlots(opts FollowOptions, curve []learn.FollowTrial, ev learn.FollowEval) error {
	if opts.Plot != "" {
		errs := make([]float64, len(curve))
		for i, r := range curve {
			errs[i] = r.ErrorRMS
		}
		title := fmt.Sprintf("FOLLOW, van der Pol: %d neurons, k=%g", opts.Config.Neurons, opts.Config.Feedback)
		err := formats.WriteFileAtomic(opts.Plot, func(w io.Writer) error {
			return report.WriteErrorCurve(w, title, opts.Config.TrialSeconds, errs, max(1, len(errs)/20))
		})
		if err != nil {
			return err
		}
	}
	if opts.RolloutPlot != "" {
		tr := report.EmulatorTraces{Title: "FOLLOW network alone (red) vs van der Pol (black), first held-out state",
			Dt: opts.Config.Dt, Steps: len(ev.Reference) / 2, Names: []string{"x", "y"}, True: ev.Reference, Predicted: ev.Rollout}
		if err := formats.WriteFileAtomic(opts.RolloutPlot, func(w io.Writer) error { return report.WriteEmulatorTraces(w, tr) }); err != nil {
			return err
		}
	}
	return nil
}
