package main

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// The checks every verb gets before it runs, in one place (guardCommand,
// called from the root's PersistentPreRunE):
//
//   - the output rule of formats/output.go: no output (-o, --plot,
//     --student-out) may be the same file as an input (any flag value or
//     argument that names an existing file, FILE.npz:array included) or an
//     existing non-regular file; "-o -" writes to stdout, and the verb's
//     human-readable lines then go to stderr;
//   - a run directory (--out) is locked for the run (formats.LockRunDir): a
//     second run into it fails at once naming the directory and the holder;
//   - bounds before allocating: size flags have documented maxima
//     (flagMaxima) and the verbs that grow with them an estimate of their
//     memory checked against --max-memory (memoryEstimates); --max-memory
//     is also the read budget of compressed .npz/.pt members.

// Documented maxima of size flags, by flag name (every verb).
var flagMaxima = map[string]int{
	"timesteps": maxTimesteps, "train-timesteps": maxTimesteps,
	"episodes": maxEpisodes, "dagger-episodes": maxEpisodes, "eval-episodes": maxEpisodes,
	"keep-best-episodes": maxEpisodes, "teacher-episodes": maxEpisodes,
	"hidden": maxHiddenWidth, "observations": maxHiddenWidth, "actions": maxHiddenWidth, "lif": maxHiddenWidth,
	"alif": maxHiddenWidth, "pre-neurons": maxHiddenWidth, "post-neurons": maxHiddenWidth, "neurons": maxHiddenWidth,
	"input-neurons": maxHiddenWidth,
	"batch":         maxBatch, "batch-size": workflow.MaxPredictBatch,
	"trials": 1 << 20, "window": 1 << 20, "epochs": 1 << 20, "dagger-epochs": 1 << 20, "stride": 1 << 20,
	"eval-trials": 1 << 20, "background-steps": 1 << 20,
	"substeps": 1 << 16, "clip-floor": 1 << 16,
	"dagger-rounds": 1 << 10, "calibrate": 1 << 10, "threads": 1 << 10, "workers": 1 << 10, "cues": 1 << 10,
	"copies": 1 << 10, "dimensions": 1 << 10,
	"steps": 1 << 30, "iterations": 1 << 30,
	"buffer": 1 << 28,
}

// notSizeFlags are the int flags that size nothing (seeds, schedules in
// steps, patience); TestEveryIntFlagBounded keeps this list and flagMaxima
// covering every int flag of every verb.
var notSizeFlags = map[string]bool{
	"seed": true, "eps-steps": true, "target-sync": true, "warmup": true, "checkpoint-every": true,
	"keep-best-every": true, "train-every": true, "patience": true,
	"max-updates": true, // a cap on time, allocating nothing
}

// documentMaxima appends each bounded flag's maximum to its help text.
func documentMaxima(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if limit, ok := flagMaxima[f.Name]; ok && !strings.Contains(f.Usage, "at most") {
			f.Usage += fmt.Sprintf(" (at most %d)", limit)
		}
	})
	for _, sub := range cmd.Commands() {
		documentMaxima(sub)
	}
}

const (
	// maxTimesteps bounds T (steps per decision or prediction): published
	// conversions use 8 to 2048; 65536 keeps one CartPole episode under
	// about a minute.
	maxTimesteps = 1 << 16
	// maxEpisodes bounds episode counts so a typo cannot run for hours.
	maxEpisodes = workflow.MaxEpisodes
	// maxHiddenWidth bounds one layer's width.
	maxHiddenWidth = 1 << 16
	// maxBatch bounds mini-batches and forward batches.
	maxBatch = 1 << 20
)

// memoryLimit is --max-memory in bytes (set by guardCommand for every
// command, from the flag or the default).
var (
	defaultMemory       = formats.DefaultMemoryLimit()
	memoryLimit   int64 = defaultMemory
)

// checkMemory refuses work whose memory estimate exceeds --max-memory;
// what names the flags that set its size.
func checkMemory(what string, bytes float64) error {
	if !(bytes <= float64(memoryLimit)) {
		return usageErrorf("%s needs %s of memory, more than --max-memory %s allows (raise it if the machine has the memory)",
			what, formats.AboutBytes(bytes), formats.FormatBytes(memoryLimit))
	}
	return nil
}

// Flag names of outputs: one file each.
var outputFlags = []string{"output", "plot", "student-out", "save"}

// guardState is what guardCommand set up for the running verb (the run
// directory it holds); execute releases it when the verb returns.
type guardState struct{ runDir *workflow.RunDirHold }

func (g *guardState) release() { g.runDir.Release() }

// guardCommand applies the checks above to cmd and its parsed flags.
func guardCommand(ios *IOStreams, cmd *cobra.Command, args []string, g *guardState) error {
	flags := cmd.Flags()
	memoryLimit = defaultMemory
	if f := flags.Lookup("max-memory"); f != nil && f.Changed {
		n, err := formats.ParseBytes(f.Value.String())
		if err != nil {
			return usageErrorf("--max-memory %v", err)
		}
		memoryLimit = n
	}
	formats.SetReadBudget(memoryLimit)
	if err := checkFlagMaxima(flags); err != nil {
		return err
	}
	if est, ok := memoryEstimates[cmd.CommandPath()]; ok {
		if err := est(flags); err != nil {
			return err
		}
	}
	// Inputs: arguments and flag values that name existing files.
	var inputs, outputs []formats.NamedPath
	for i, a := range args {
		inputs = append(inputs, formats.NamedPath{Label: fmt.Sprintf("argument %d", i+1), Path: a})
	}
	stdoutFlag := ""
	flags.VisitAll(func(f *pflag.Flag) {
		label := "--" + f.Name
		if f.Shorthand != "" {
			label = "-" + f.Shorthand
		}
		switch {
		case f.Name == "out":
		case slices.Contains(outputFlags, f.Name):
			if f.Value.String() == formats.StdoutPath {
				stdoutFlag = label
			}
			outputs = append(outputs, formats.NamedPath{Label: label, Path: f.Value.String()})
		default:
			for _, v := range flagStrings(f) {
				if p := formats.ExistingInputPath(v); p != "" {
					inputs = append(inputs, formats.NamedPath{Label: "--" + f.Name, Path: p})
				}
			}
		}
	})
	if err := formats.CheckOutputs(outputs, inputs); err != nil {
		return usageError{err}
	}
	if stdoutFlag != "" {
		if j := flags.Lookup("json"); j != nil && j.Value.String() == "true" {
			return usageErrorf("%s - and --json both want standard output: write the file elsewhere or drop --json", stdoutFlag)
		}
		if err := formats.CheckStdout(stdoutFlag, ios.Out); err != nil {
			return usageError{err}
		}
		// The stream goes to stdout; what the verb says for people, to stderr.
		formats.SetStdout(ios.Out)
		ios.Out = ios.ErrOut
	}
	return lockRunDir(cmd, flags, inputs, g)
}

// lockRunDir locks --out of the verbs that write a run directory.
func lockRunDir(cmd *cobra.Command, flags *pflag.FlagSet, inputs []formats.NamedPath, g *guardState) error {
	f := flags.Lookup("out")
	if f == nil {
		return nil
	}
	dir := f.Value.String()
	if dir == "" && cmd.Name() == "pipeline" {
		dir = filepath.Join("runs", "pipeline-"+flags.Lookup("seed").Value.String())
	}
	if dir == "" {
		return nil // the verb says that --out is required
	}
	hold, err := workflow.HoldRunDir(formats.NamedPath{Label: "--out", Path: dir}, inputs)
	g.runDir = hold
	var refused *formats.RunDirError
	var unsafe *formats.OutputError
	var busy *formats.RunDirBusyError
	switch {
	case errors.As(err, &refused) || errors.As(err, &unsafe):
		return usageError{err}
	case errors.As(err, &busy):
		return fmt.Errorf("--out %w", err)
	}
	return err
}

// flagStrings returns the string values of a string or string-array flag.
func flagStrings(f *pflag.Flag) []string {
	switch f.Value.Type() {
	case "string":
		return []string{f.Value.String()}
	case "stringArray", "stringSlice":
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			return sv.GetSlice()
		}
	}
	return nil
}

// checkFlagMaxima applies flagMaxima to the int and int-slice flags.
func checkFlagMaxima(flags *pflag.FlagSet) error {
	var err error
	flags.VisitAll(func(f *pflag.Flag) {
		limit, ok := flagMaxima[f.Name]
		if !ok || err != nil {
			return
		}
		var values []string
		switch f.Value.Type() {
		case "int", "int64", "uint64":
			values = []string{f.Value.String()}
		case "intSlice":
			values = f.Value.(pflag.SliceValue).GetSlice()
		default:
			return
		}
		for _, s := range values {
			if v, perr := strconv.ParseFloat(s, 64); perr == nil && v > float64(limit) {
				err = usageErrorf("--%s %s: at most %d", f.Name, s, limit)
				return
			}
		}
	})
	return err
}

// flagInt reads an int flag of flags (0 when missing).
func flagInt(flags *pflag.FlagSet, name string) int {
	v, _ := flags.GetInt(name)
	return v
}

// flagInts reads an int-slice flag.
func flagInts(flags *pflag.FlagSet, name string) []int {
	values, _ := flags.GetIntSlice(name)
	return values
}

var flagRef = regexp.MustCompile(`\{[a-z-]+\}`)

// flagsText writes each {name} in s as that flag and its value as typed,
// a list without brackets ("{hidden}": "--hidden 64,64").
func flagsText(f *pflag.FlagSet, s string) string {
	return flagRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[1 : len(ref)-1]
		return "--" + name + " " + strings.Trim(f.Lookup(name).Value.String(), "[]")
	})
}

// memoryEstimates: per verb, a memory estimate from its flags, checked
// before the verb allocates (the estimates live next to the configs they
// estimate). Verbs whose size depends on their input files check once
// those are read (eval-emulator --rollout, train classifier).
var memoryEstimates = map[string]func(*pflag.FlagSet) error{
	"spikebridge record": func(f *pflag.FlagSet) error {
		return checkMemory(flagsText(f, "{episodes}"), convert.RecordingBytes(flagInt(f, "episodes")))
	},
	"spikebridge train dqn":        dqnMemory,
	"spikebridge train sqn":        dqnMemory,
	"spikebridge train classifier": mlpTrainingMemory,
	"spikebridge train emulator":   mlpTrainingMemory,
	"spikebridge convert":          convertMemory,
	"spikebridge compare":          episodesMemory,
	"spikebridge pipeline":         episodesMemory,
	"spikebridge probe generate":   probeMemory,
}

func dqnMemory(f *pflag.FlagSet) error {
	cfg := train.Config{Batch: flagInt(f, "batch"), Buffer: flagInt(f, "buffer"), Hidden: flagInts(f, "hidden")}
	if cfg.Batch > cfg.Buffer && cfg.Buffer > 0 {
		return usageError{errors.New(flagsText(f, "{batch}: at most {buffer} (a mini-batch is drawn from the stored transitions)"))}
	}
	what := flagsText(f, "{buffer}, {batch} and {hidden}")
	steps := flagInt(f, "timesteps") // train sqn: BPTT keeps every step
	if steps > 1 {
		what += flagsText(f, " at {timesteps}")
	}
	return checkMemory(what, cfg.MemoryBytes(steps))
}

func mlpTrainingMemory(f *pflag.FlagSet) error {
	if f.Lookup("hidden") == nil || f.Lookup("batch") == nil {
		return nil
	}
	steps := 1
	if kind, _ := f.GetString("kind"); kind == "spiking" {
		steps = max(flagInt(f, "timesteps"), flagInt(f, "window")) // BPTT through T steps or the window
	}
	return checkMemory(flagsText(f, "{hidden} with {batch}"), train.MLPTrainingBytes(flagInts(f, "hidden"), flagInt(f, "batch"), steps))
}

// convertMemory: the student's training, and the states recorded from
// the teacher's and the SNN's episodes.
func convertMemory(f *pflag.FlagSet) error {
	if err := mlpTrainingMemory(f); err != nil {
		return err
	}
	if f.Lookup("teacher-episodes") == nil || f.Lookup("dagger-episodes") == nil {
		return nil
	}
	episodes := flagInt(f, "teacher-episodes") + flagInt(f, "dagger-episodes")*flagInt(f, "dagger-rounds")
	return checkMemory(flagsText(f, "{teacher-episodes} and {dagger-episodes} x {dagger-rounds}"), convert.RecordingBytes(episodes))
}

func episodesMemory(f *pflag.FlagSet) error {
	if initStates, _ := f.GetString("init-states"); initStates != "" {
		return nil // one episode per row of a file: checked once it is read
	}
	return checkEpisodesMemory(flagsText(f, "{episodes}"), flagInt(f, "episodes"))
}

func checkEpisodesMemory(what string, episodes int) error {
	return checkMemory(what, convert.ComparisonBytes(episodes))
}

func probeMemory(f *pflag.FlagSet) error {
	cfg, err := probeSettings(f)
	if err != nil {
		return err
	}
	if !(cfg.Dt > 0) || math.IsInf(cfg.Dt, 0) {
		return usageErrorf("--dt %v: want a positive number of seconds", cfg.Dt)
	}
	if !(cfg.Duration > 0) || math.IsInf(cfg.Duration, 0) {
		return usageErrorf("--duration %v: want a positive number of seconds", cfg.Duration)
	}
	return checkMemory(fmt.Sprintf("--trials %g x --duration %g / --dt %g (%.3g steps per trial)", float64(cfg.Trials), cfg.Duration, cfg.Dt, cfg.Duration/cfg.Dt),
		cfg.MemoryBytes())
}

// checkEmulatorFlags validates train emulator's settings before its run
// directory records them, naming the flags.
func checkEmulatorFlags(c train.EmulatorConfig, valFraction float64, window, stride int) error {
	return flagErr(workflow.CheckEmulatorSettings(c, probe.WindowOptions{Length: window, Stride: stride, ValFraction: valFraction}))
}

// checkRolloutMemory checks eval-emulator's free runs of seconds at dt.
func checkRolloutMemory(seconds, dt float64, inputs, targets int) error {
	return checkMemory(fmt.Sprintf("--rollout %g (%.3g steps of %g s)", seconds, seconds/dt, dt), probe.RolloutBytes(seconds, dt, inputs, targets))
}
