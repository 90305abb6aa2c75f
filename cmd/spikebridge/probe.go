package main

import (
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// ProbeGenerateOptions holds the flags of `spikebridge probe generate`.
type ProbeGenerateOptions struct {
	IO     *IOStreams
	System string
	Config env.ProbeConfig
	Out    string
	JSON   bool
}

// NewCmdProbe is the parent of the probe data verbs.
func NewCmdProbe(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Probe data sets for emulator training (generate built-in ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("probe needs a subcommand: %s", subcommandNames(cmd))
		},
	}
	cmd.AddCommand(NewCmdProbeGenerate(ios, nil))
	return cmd
}

// NewCmdProbeGenerate parses flags; runF replaces runProbeGenerate in tests.
func NewCmdProbeGenerate(ios *IOStreams, runF func(*ProbeGenerateOptions) error) *cobra.Command {
	opts := &ProbeGenerateOptions{IO: ios}
	var c env.ProbeConfig // the flags; probeSettings puts the given ones over the system's defaults
	cmd := &cobra.Command{
		Use:   "generate --system vanderpol|arm [--trials N --duration S --dt D --seed S] -o probe.npz",
		Short: "Simulate a built-in system (driven van der Pol oscillator, two-link arm) into a probe data set",
		Long: `Simulate trials of a built-in dynamical system from seeded initial states under
seeded filtered-noise inputs (an Ornstein-Uhlenbeck process held constant over each dt),
integrated with RK4 at dt/--substeps and sampled every dt. The file holds inputs
(trials, steps, d_in), targets (trials, steps, d_out: the state), dt, and the column
names input_names and target_names (uint8 arrays of newline-separated UTF-8; numpy:
bytes(f["target_names"]).decode().split("\n")); .csv gives one row per step with a
trial column and named columns instead.

  vanderpol: input u, state (x, y); x' = y, y' = mu (1 - x^2) y - x + u, mu = 1.
             Defaults: 60 trials of 20 s at dt 0.05, input std 0.5, tau 0.5 s.
  arm:       input torques (tau1, tau2), state (q1, q2, dq1, dq2); Li & Todorov's arm.
             Defaults: 100 trials of 5 s at dt 0.01, input std 0.2 N m, tau 0.1 s.`,
		Example: "  spikebridge probe generate --system vanderpol --trials 60 --duration 20 --dt 0.05 -o vdp.npz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("-o FILE (.npz or .csv) is required")
			}
			var err error
			if opts.Config, err = probeSettings(cmd.Flags()); err != nil {
				return err
			}
			return runVerb(runF, runProbeGenerate, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.System, "system", "vanderpol", "built-in system: vanderpol or arm")
	f.IntVar(&c.Trials, "trials", 0, "number of trials (default: the system's)")
	f.Float64Var(&c.Duration, "duration", 0, "seconds per trial (default: the system's)")
	f.Float64Var(&c.Dt, "dt", 0, "sampling interval in seconds (default: the system's)")
	f.IntVar(&c.Substeps, "substeps", 0, "RK4 steps per dt (default 10)")
	f.Uint64Var(&c.Seed, "seed", 1, "seed of the initial states and inputs")
	f.Float64Var(&c.InputStd, "input-std", 0, "input standard deviation (default: the system's)")
	f.Float64Var(&c.InputTau, "input-tau", 0, "input correlation time in seconds (default: the system's)")
	f.StringVarP(&opts.Out, "output", "o", "", "output file (.npz or .csv; - writes the CSV to stdout)")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	return cmd
}

// probeSettings is --system's default probe settings with the flags given
// on top.
func probeSettings(f *pflag.FlagSet) (env.ProbeConfig, error) {
	system, _ := f.GetString("system")
	_, cfg, ok := env.ProbeSystem(system)
	if !ok {
		return cfg, usageErrorf("--system %q: want vanderpol or arm", system)
	}
	for name, dst := range map[string]*int{"trials": &cfg.Trials, "substeps": &cfg.Substeps} {
		if f.Changed(name) {
			*dst, _ = f.GetInt(name)
		}
	}
	for name, dst := range map[string]*float64{"duration": &cfg.Duration, "dt": &cfg.Dt, "input-std": &cfg.InputStd, "input-tau": &cfg.InputTau} {
		if f.Changed(name) {
			*dst, _ = f.GetFloat64(name)
		}
	}
	cfg.Seed, _ = f.GetUint64("seed")
	return cfg, nil
}

// runProbeGenerate simulates opts.Config (the settings, complete).
func runProbeGenerate(opts *ProbeGenerateOptions) error {
	cfg := opts.Config
	if err := cfg.Check(); err != nil {
		return usageError{err}
	}
	if ext := strings.ToLower(filepath.Ext(opts.Out)); opts.Out != formats.StdoutPath && ext != ".npz" && ext != ".csv" {
		return usageErrorf("-o %s: want a .npz or .csv file", opts.Out)
	}
	res, err := workflow.GenerateProbe(opts.System, cfg, opts.Out)
	if err != nil {
		return err
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
