package main

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
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
	"timesteps":          maxTimesteps,
	"episodes":           maxCLIEpisodes,
	"dagger-episodes":    maxCLIEpisodes,
	"eval-episodes":      maxCLIEpisodes,
	"keep-best-episodes": maxCLIEpisodes,
	"hidden":             maxHiddenWidth,
	"batch":              maxBatch,
	"batch-size":         maxBatch,
	"trials":             1 << 20,
	"substeps":           1 << 16,
	"window":             1 << 20,
	"epochs":             1 << 20,
	"dagger-rounds":      1 << 10,
	"dagger-epochs":      1 << 20,
	"calibrate":          1 << 10,
	"train-timesteps":    maxTimesteps,
	"steps":              1 << 30,
	"buffer":             1 << 28,
	"observations":       maxHiddenWidth,
	"actions":            maxHiddenWidth,
	"clip-floor":         1 << 16,
	"stride":             1 << 20,
	"threads":            1 << 10,
	"workers":            1 << 10,
	"lif":                maxHiddenWidth,
	"alif":               maxHiddenWidth,
	"cues":               1 << 10,
	"eval-trials":        1 << 20,
	"background-steps":   1 << 20,
	"iterations":         1 << 30,
	"copies":             1 << 10,
	"dimensions":         1 << 10,
	"pre-neurons":        maxHiddenWidth,
	"post-neurons":       maxHiddenWidth,
	"teacher-episodes":   maxCLIEpisodes,
	"neurons":            maxHiddenWidth,
	"input-neurons":      maxHiddenWidth,
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
	// maxHiddenWidth bounds one layer's width.
	maxHiddenWidth = 1 << 16
	// maxBatch bounds mini-batches and forward batches.
	maxBatch = 1 << 20
)

// memoryLimit is --max-memory in bytes (set by guardCommand for every
// command, from the flag or the default).
var (
	defaultMemory       = defaultMemoryLimit()
	memoryLimit   int64 = defaultMemory
)

// defaultMemoryLimit is half of the memory this process may use: the
// machine's RAM, or its cgroup's limit when lower; 4 GiB when neither can
// be read.
func defaultMemoryLimit() int64 {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
				total = kb << 10
				break
			}
		}
		f.Close()
	}
	if raw, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && v > 0 && (total == 0 || v < total) {
			total = v
		}
	}
	if total <= 0 {
		return 4 << 30
	}
	return total / 2
}

// parseBytes reads a size: plain bytes ("1e9", "1048576") or with a unit
// (K, M, G, T with an optional B or iB; powers of 1024).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		for _, tail := range []string{u.suffix + "IB", u.suffix + "B", u.suffix} {
			if strings.HasSuffix(t, tail) {
				t, mult = strings.TrimSpace(strings.TrimSuffix(t, tail)), u.m
				goto parsed
			}
		}
	}
	t = strings.TrimSuffix(t, "B")
parsed:
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q: want a size such as 4GiB, 512MiB or a number of bytes", s)
	}
	return int64(v * mult), nil
}

// checkMemory refuses work whose memory estimate exceeds --max-memory;
// what names the flags that set its size.
func checkMemory(what string, bytes float64) error {
	if !(bytes <= float64(memoryLimit)) {
		return usageErrorf("%s needs %s of memory, more than --max-memory %s allows (raise it if the machine has the memory)",
			what, formatBytesF(bytes), formats.FormatBytes(memoryLimit))
	}
	return nil
}

func formatBytesF(b float64) string {
	if math.IsNaN(b) || b > math.MaxInt64/2 {
		return "more than 4 EiB"
	}
	return "about " + formats.FormatBytes(int64(b))
}

// Flag names of outputs: one file each.
var outputFlags = []string{"output", "plot", "student-out", "save"}

// guardState is what guardCommand set up for the running verb; execute
// releases it when the verb returns.
type guardState struct {
	lock       *formats.RunDirLock
	createdDir string // a run directory this run created (removed again if the verb left it empty)
}

func (g *guardState) release() {
	if g == nil {
		return
	}
	g.lock.Unlock()
	if g.createdDir == "" {
		return
	}
	// A run that failed before writing anything leaves no directory behind
	// (Remove fails on a directory that is not empty).
	_ = os.Remove(g.createdDir)
}

// guardCommand applies the checks above to cmd and its parsed flags.
func guardCommand(ios *IOStreams, cmd *cobra.Command, args []string, g *guardState) error {
	flags := cmd.Flags()
	memoryLimit = defaultMemory
	if f := flags.Lookup("max-memory"); f != nil && f.Changed {
		n, err := parseBytes(f.Value.String())
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
	isOutput := map[string]bool{"out": true}
	for _, name := range outputFlags {
		isOutput[name] = true
	}
	stdoutFlag := ""
	flags.VisitAll(func(f *pflag.Flag) {
		label := "--" + f.Name
		if f.Shorthand != "" {
			label = "-" + f.Shorthand
		}
		if isOutput[f.Name] && f.Name != "out" {
			v := f.Value.String()
			if v == formats.StdoutPath {
				stdoutFlag = label
			}
			outputs = append(outputs, formats.NamedPath{Label: label, Path: v})
			return
		}
		if isOutput[f.Name] {
			return
		}
		for _, v := range flagStrings(f) {
			if p := existingInputPath(v); p != "" {
				inputs = append(inputs, formats.NamedPath{Label: "--" + f.Name, Path: p})
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
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageErrorf("--out %s exists and is not a directory", dir)
	}
	for _, in := range inputs {
		st, err := os.Stat(in.Path)
		if err != nil {
			continue
		}
		if st.IsDir() {
			if same, _ := sameFileInfo(dir, in.Path); same {
				return usageErrorf("--out %s is the directory %s %s names as input", dir, in.Label, in.Path)
			}
			continue
		}
		// An input inside --out under a name the run writes (fine-tuning
		// --init DIR/model.safetensors into --out DIR) would be overwritten.
		if same, _ := sameFileInfo(dir, filepath.Dir(in.Path)); same && runDirWrites(filepath.Base(in.Path)) {
			return usageErrorf("%s %s lies in --out %s, where this run writes %s: refusing to overwrite an input (copy it elsewhere or choose another --out)",
				in.Label, in.Path, dir, filepath.Base(in.Path))
		}
	}
	// The files the run will replace: none may be a device, a FIFO or a
	// link to an input.
	if entries, err := os.ReadDir(dir); err == nil {
		var outs []formats.NamedPath
		for _, e := range entries {
			if runDirWrites(e.Name()) {
				outs = append(outs, formats.NamedPath{Label: "--out", Path: filepath.Join(dir, e.Name())})
			}
		}
		if err := formats.CheckOutputs(outs, inputs); err != nil {
			return usageError{err}
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		g.createdDir = dir
	}
	lock, err := formats.LockRunDir(dir)
	if err != nil {
		var busy *formats.RunDirBusyError
		if errors.As(err, &busy) {
			return fmt.Errorf("--out %w", err)
		}
		return err
	}
	g.lock = lock
	return nil
}

func sameFileInfo(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
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

// existingInputPath returns the file a flag value names ("FILE.npz:array"
// names FILE.npz), or "" when it names none.
func existingInputPath(v string) string {
	if v == "" || v == formats.StdoutPath {
		return ""
	}
	if _, err := os.Stat(v); err == nil {
		return v
	}
	if i := strings.LastIndex(v, ":"); i > 0 {
		if _, err := os.Stat(v[:i]); err == nil {
			return v[:i]
		}
	}
	return ""
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
func flagInt(flags *pflag.FlagSet, name string) float64 {
	f := flags.Lookup(name)
	if f == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(f.Value.String(), 64)
	return v
}

func flagInts(flags *pflag.FlagSet, name string) []float64 {
	f := flags.Lookup(name)
	if f == nil {
		return nil
	}
	sv, ok := f.Value.(pflag.SliceValue)
	if !ok {
		return []float64{flagInt(flags, name)}
	}
	var out []float64
	for _, s := range sv.GetSlice() {
		v, _ := strconv.ParseFloat(s, 64)
		out = append(out, v)
	}
	return out
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// memoryEstimates: per verb, a memory estimate from its flags, checked
// before the verb allocates. Verbs whose size depends on their input files
// check once those are read (eval-emulator --rollout, train classifier).
var memoryEstimates = map[string]func(*pflag.FlagSet) error{
	// A recorded episode keeps up to 500 rows of states, Q-values, actions
	// and taken actions, as float64 on the way to the .npz (~64 KiB).
	"spikebridge record": func(f *pflag.FlagSet) error {
		return checkMemory("--episodes "+strconv.Itoa(int(flagInt(f, "episodes"))), flagInt(f, "episodes")*500*16*8)
	},
	"spikebridge train dqn":        dqnMemory,
	"spikebridge train sqn":        dqnMemory,
	"spikebridge train classifier": mlpTrainingMemory,
	"spikebridge train emulator":   mlpTrainingMemory,
	"spikebridge convert":          convertMemory,
	"spikebridge compare":          episodesMemory,
	"spikebridge pipeline":         episodesMemory,
	"spikebridge probe generate": func(f *pflag.FlagSet) error {
		_, cfg, err := probeSystem(f.Lookup("system").Value.String())
		if err != nil {
			return err
		}
		trials, duration, dt := float64(cfg.Trials), cfg.Duration, cfg.Dt
		if fl := f.Lookup("trials"); fl.Changed {
			trials = flagInt(f, "trials")
		}
		for name, dst := range map[string]*float64{"duration": &duration, "dt": &dt} {
			if fl := f.Lookup(name); fl.Changed {
				*dst, _ = strconv.ParseFloat(fl.Value.String(), 64)
			}
		}
		if !(dt > 0) || math.IsInf(dt, 0) {
			return usageErrorf("--dt %v: want a positive number of seconds", dt)
		}
		if !(duration > 0) || math.IsInf(duration, 0) {
			return usageErrorf("--duration %v: want a positive number of seconds", duration)
		}
		steps := duration / dt
		// inputs and states of every step as float64, held by the
		// recording, the probe and the file's encoding (x3); 6 values per
		// step for the arm, the widest system.
		return checkMemory(fmt.Sprintf("--trials %g x --duration %g / --dt %g (%.3g steps per trial)", trials, duration, dt, steps),
			trials*(steps+1)*6*8*3)
	},
}

// dqnMemory: the replay buffer (two observations, action, reward, done per
// transition, float64) and the graph's mini-batch activations, gradients
// and Adam moments (float32, ~16 copies of the batch's layer widths).
func dqnMemory(f *pflag.FlagSet) error {
	batch, buffer := flagInt(f, "batch"), flagInt(f, "buffer")
	batchText, bufferText := f.Lookup("batch").Value.String(), f.Lookup("buffer").Value.String()
	if batch > buffer && buffer > 0 {
		return usageErrorf("--batch %s: at most --buffer %s (a mini-batch is drawn from the stored transitions)", batchText, bufferText)
	}
	hidden := flagInts(f, "hidden")
	widths := 4 + 2 + sum(hidden)
	steps := max(flagInt(f, "timesteps"), 1) // train sqn: BPTT keeps every step
	est := buffer*(2*4+3)*8 + batch*widths*4*16*steps + mlpWeightBytes(4, hidden, 2)
	what := fmt.Sprintf("--buffer %s, --batch %s and --hidden %s", bufferText, batchText, flagText(f, "hidden"))
	if steps > 1 {
		what += " at --timesteps " + f.Lookup("timesteps").Value.String()
	}
	return checkMemory(what, est)
}

// mlpWeightBytes: the float32 weights of an MLP inputs-hidden-outputs kept
// about eight times over in training (parameters, gradients, Adam's two
// moments, target network, graph copies).
func mlpWeightBytes(inputs float64, hidden []float64, outputs float64) float64 {
	sizes := append(append([]float64{inputs}, hidden...), outputs)
	n := 0.0
	for i := 0; i+1 < len(sizes); i++ {
		n += (sizes[i] + 1) * sizes[i+1]
	}
	return n * 4 * 8
}

// mlpTrainingMemory: the weights and one batch's activations of a network
// trained by the classifier, the distillation or a rate emulator (inputs
// and outputs are taken as 64 wide: the CLI does not know them yet).
func mlpTrainingMemory(f *pflag.FlagSet) error {
	if f.Lookup("hidden") == nil || f.Lookup("batch") == nil {
		return nil
	}
	hidden, batch := flagInts(f, "hidden"), flagInt(f, "batch")
	steps := 1.0
	if f.Lookup("kind") != nil && f.Lookup("kind").Value.String() == "spiking" {
		steps = max(flagInt(f, "timesteps"), flagInt(f, "window"), 1) // BPTT through T steps or the window
	}
	est := mlpWeightBytes(64, hidden, 64) + batch*(128+sum(hidden))*4*16*steps
	return checkMemory(fmt.Sprintf("--hidden %s with --batch %s", flagText(f, "hidden"), f.Lookup("batch").Value.String()), est)
}

// convertMemory: the student's training, and the states recorded from
// the teacher's and the SNN's episodes (as record keeps them).
func convertMemory(f *pflag.FlagSet) error {
	if err := mlpTrainingMemory(f); err != nil {
		return err
	}
	if f.Lookup("teacher-episodes") == nil || f.Lookup("dagger-episodes") == nil {
		return nil
	}
	episodes := flagInt(f, "teacher-episodes") + flagInt(f, "dagger-episodes")*flagInt(f, "dagger-rounds")
	return checkMemory(fmt.Sprintf("--teacher-episodes %s and --dagger-episodes %s x --dagger-rounds %s", flagText(f, "teacher-episodes"),
		flagText(f, "dagger-episodes"), flagText(f, "dagger-rounds")), episodes*500*16*8)
}

// episodesMemory: a comparison keeps the visited states, Q-values and
// actions of every episode of the ANN and the SNN (up to 500 steps each).
func episodesMemory(f *pflag.FlagSet) error {
	if f.Lookup("init-states") != nil && f.Lookup("init-states").Value.String() != "" {
		return nil
	}
	return checkEpisodesMemory("--episodes "+f.Lookup("episodes").Value.String(), int(flagInt(f, "episodes")))
}

func checkEpisodesMemory(what string, episodes int) error {
	return checkMemory(what, float64(episodes)*500*2*8*8)
}

// checkEmulatorFlags validates train emulator's settings before its run
// directory records them, naming the flags.
func checkEmulatorFlags(c train.EmulatorConfig, valFraction float64, window, stride int) error {
	switch {
	case !(valFraction > 0 && valFraction < 1):
		return usageErrorf("--val %v: want a fraction of the trials strictly between 0 and 1 (the best epoch is chosen on the validation trials)", valFraction)
	case c.Epochs <= 0:
		return usageErrorf("--epochs %d: want at least 1", c.Epochs)
	case c.Batch <= 0:
		return usageErrorf("--batch %d: want at least 1", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return usageErrorf("--lr %v: want a positive number", c.LR)
	case !(c.LRFinal >= 0) || math.IsInf(c.LRFinal, 0):
		return usageErrorf("--lr-final %v: want a number >= 0", c.LRFinal)
	case !(c.GradClip >= 0) || math.IsInf(c.GradClip, 0):
		return usageErrorf("--grad-clip %v: want a norm >= 0 (0 = off)", c.GradClip)
	case c.Patience < 0:
		return usageErrorf("--patience %d: want >= 0 (0 = never stop early)", c.Patience)
	case c.ClipFloor < 0:
		return usageErrorf("--clip-floor %d: want >= 0 (0 = plain ReLU)", c.ClipFloor)
	case window < 2:
		return usageErrorf("--window %d: want at least 2 steps", window)
	case stride < 0:
		return usageErrorf("--stride %d: want >= 0 (0 = the window length)", stride)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return usageErrorf("--hidden: layer %d width %d, want >= 1", i+1, h)
		}
	}
	return nil
}

// checkRolloutMemory: a free run of seconds at dt keeps its zero inputs,
// its states and the traced target per step (float64, twice over while the
// rollout copies).
func checkRolloutMemory(seconds, dt float64, inputs, targets int) error {
	steps := seconds / dt
	return checkMemory(fmt.Sprintf("--rollout %g (%.3g steps of %g s)", seconds, steps, dt),
		(steps+1)*float64(inputs+2*targets+1)*8*2)
}

// runDirWrites reports whether a run directory verb (train dqn|sqn|emulator|
// eprop, compare, pipeline) writes a file of this name into --out.
func runDirWrites(name string) bool {
	switch name {
	case dqnModelFile, dqnFinalFile, dqnCheckpointFile, dqnConfigFile, dqnMetricsFile,
		"model.snn.safetensors", "final.snn.safetensors", "model.eprop.safetensors", "checkpoint.npz",
		compareJSONFile, compareCSVFile, "report.md", "states.npz", "student-distill.safetensors":
		return true
	}
	return strings.HasSuffix(name, ".png") || strings.HasPrefix(name, "snn-") && strings.HasSuffix(name, ".safetensors")
}

// flagText is a flag's value as typed (a list without brackets).
func flagText(f *pflag.FlagSet, name string) string {
	return strings.Trim(f.Lookup(name).Value.String(), "[]")
}

// requireCheckpoint refuses --resume in a directory without a checkpoint:
// the run stopped before its first one (or never ran), so there is nothing
// to continue and a fresh start needs no --force.
func requireCheckpoint(dir, ckptPath string) error {
	if _, err := os.Stat(ckptPath); err != nil {
		return usageErrorf("--resume: %s holds no checkpoint (the run stopped before its first one, or never ran): start it again without --resume", dir)
	}
	return nil
}
