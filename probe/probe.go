package probe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spikebridge/spikebridge/formats"
)

// Data is a recorded probe data set: Trials trials of Steps samples, each
// an input vector of InputSize and a target vector of TargetSize values,
// sampled every Dt seconds. Inputs (Trials, Steps, InputSize) and Targets
// (Trials, Steps, TargetSize) are row-major float64. A NaN target marks a
// missing sample; inputs are always finite (Check).
type Data struct {
	Trials, Steps, InputSize, TargetSize int
	Dt                                   float64
	Inputs, Targets                      []float64
	InputNames, TargetNames              []string
}

// Input returns the input vector of trial t at step k (shared).
func (p *Data) Input(t, k int) []float64 {
	i := (t*p.Steps + k) * p.InputSize
	return p.Inputs[i : i+p.InputSize]
}

// Target returns the target vector of trial t at step k (shared).
func (p *Data) Target(t, k int) []float64 {
	i := (t*p.Steps + k) * p.TargetSize
	return p.Targets[i : i+p.TargetSize]
}

// DefaultNames returns prefix0, prefix1, ... (n names).
func DefaultNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = prefix + strconv.Itoa(i)
	}
	return names
}

// Check reports the first reason the data set cannot be trained on: bad
// sizes, a non-finite input, a target that is infinite, a target dimension
// with no finite value at all, or a non-positive dt.
func (p *Data) Check() error {
	switch {
	case p.Trials <= 0 || p.Steps <= 0:
		return fmt.Errorf("%d trials of %d steps, want at least one of each", p.Trials, p.Steps)
	case p.InputSize <= 0 || p.TargetSize <= 0:
		return fmt.Errorf("%d inputs and %d targets per step, want at least one of each", p.InputSize, p.TargetSize)
	case len(p.Inputs) != p.Trials*p.Steps*p.InputSize:
		return fmt.Errorf("inputs hold %d values, want trials*steps*inputs = %d*%d*%d", len(p.Inputs), p.Trials, p.Steps, p.InputSize)
	case len(p.Targets) != p.Trials*p.Steps*p.TargetSize:
		return fmt.Errorf("targets hold %d values, want trials*steps*targets = %d*%d*%d", len(p.Targets), p.Trials, p.Steps, p.TargetSize)
	case !(p.Dt > 0) || math.IsInf(p.Dt, 0):
		return fmt.Errorf("dt %v, want a positive number of seconds", p.Dt)
	case len(p.InputNames) != 0 && len(p.InputNames) != p.InputSize:
		return fmt.Errorf("%d input names for %d inputs", len(p.InputNames), p.InputSize)
	case len(p.TargetNames) != 0 && len(p.TargetNames) != p.TargetSize:
		return fmt.Errorf("%d target names for %d targets", len(p.TargetNames), p.TargetSize)
	}
	for i, v := range p.Inputs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			s := i / p.InputSize
			return fmt.Errorf("input %s of trial %d, step %d is %v, want a finite number (only targets may be missing)",
				p.inputName(i%p.InputSize), s/p.Steps, s%p.Steps, v)
		}
	}
	finite := make([]int, p.TargetSize)
	for i, v := range p.Targets {
		if math.IsInf(v, 0) {
			s := i / p.TargetSize
			return fmt.Errorf("target %s of trial %d, step %d is %v, want a finite number or NaN (missing)",
				p.targetName(i%p.TargetSize), s/p.Steps, s%p.Steps, v)
		}
		if !math.IsNaN(v) {
			finite[i%p.TargetSize]++
		}
	}
	for d, n := range finite {
		if n == 0 {
			return fmt.Errorf("target %s is NaN (missing) in every sample, nothing to learn from", p.targetName(d))
		}
	}
	return nil
}

func (p *Data) inputName(i int) string {
	if len(p.InputNames) == p.InputSize {
		return strconv.Quote(p.InputNames[i])
	}
	return strconv.Itoa(i)
}

func (p *Data) targetName(i int) string {
	if len(p.TargetNames) == p.TargetSize {
		return strconv.Quote(p.TargetNames[i])
	}
	return strconv.Itoa(i)
}

// fillNames gives unnamed inputs and targets the default names u0.., y0...
func (p *Data) fillNames() {
	if len(p.InputNames) == 0 {
		p.InputNames = DefaultNames("u", p.InputSize)
	}
	if len(p.TargetNames) == 0 {
		p.TargetNames = DefaultNames("y", p.TargetSize)
	}
}

// Load reads a probe data set from an .npz or .csv file (by extension)
// and checks it.
func Load(path string) (*Data, error) {
	var p *Data
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		p, err = readNPZ(path)
	case ".csv":
		var f *os.File
		if f, err = os.Open(path); err != nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
		defer f.Close()
		p, err = ReadCSV(f)
	default:
		return nil, fmt.Errorf("probe: %s: unknown probe file type %q, want .npz or .csv", path, filepath.Ext(path))
	}
	if err != nil {
		return nil, fmt.Errorf("probe: %s: %w", path, err)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("probe: %s: %w", path, err)
	}
	return p, nil
}

func readNPZ(path string) (*Data, error) {
	arrays, err := formats.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	get := func(name string) (*formats.Array, error) {
		a, ok := arrays[name]
		if !ok {
			have := make([]string, 0, len(arrays))
			for n := range arrays {
				have = append(have, n)
			}
			slices.Sort(have)
			return nil, fmt.Errorf("no array %q (has %v); a probe file holds inputs (trials, steps, d_in), targets (trials, steps, d_out) and dt", name, have)
		}
		return a, nil
	}
	in, err := get("inputs")
	if err != nil {
		return nil, err
	}
	tg, err := get("targets")
	if err != nil {
		return nil, err
	}
	dt, err := get("dt")
	if err != nil {
		return nil, err
	}
	if len(in.Shape) != 3 {
		return nil, fmt.Errorf("array \"inputs\": shape %v, want 3 dimensions (trials, steps, d_in)", in.Shape)
	}
	if len(tg.Shape) != 3 {
		return nil, fmt.Errorf("array \"targets\": shape %v, want 3 dimensions (trials, steps, d_out)", tg.Shape)
	}
	if in.Shape[0] != tg.Shape[0] || in.Shape[1] != tg.Shape[1] {
		return nil, fmt.Errorf("inputs have %d trials of %d steps but targets %d trials of %d steps; they must match",
			in.Shape[0], in.Shape[1], tg.Shape[0], tg.Shape[1])
	}
	if dt.Len() != 1 {
		return nil, fmt.Errorf("array \"dt\": shape %v, want a scalar (seconds per step)", dt.Shape)
	}
	p := &Data{Trials: in.Shape[0], Steps: in.Shape[1], InputSize: in.Shape[2], TargetSize: tg.Shape[2],
		Dt: dt.Data[0], Inputs: in.Data, Targets: tg.Data}
	for _, n := range []struct {
		array string
		dst   *[]string
		want  int
	}{{"input_names", &p.InputNames, p.InputSize}, {"target_names", &p.TargetNames, p.TargetSize}} {
		a, ok := arrays[n.array]
		if !ok {
			continue
		}
		names, err := decodeNames(a)
		if err != nil {
			return nil, fmt.Errorf("array %q: %w", n.array, err)
		}
		if len(names) != n.want {
			return nil, fmt.Errorf("array %q holds %d names %q for %d columns", n.array, len(names), names, n.want)
		}
		*n.dst = names
	}
	p.fillNames()
	return p, nil
}

// Column names in an .npz: a uint8 array holding the UTF-8 names joined by
// newlines (in numpy: bytes(f["target_names"]).decode().split("\n")).

func encodeNames(name string, names []string) *formats.Array {
	b := []byte(strings.Join(names, "\n"))
	data := make([]float64, len(b))
	for i, c := range b {
		data[i] = float64(c)
	}
	return &formats.Array{Name: name, Shape: []int{len(b)}, DType: "|u1", Data: data}
}

func decodeNames(a *formats.Array) ([]string, error) {
	if a.DType != "|u1" && a.DType != "<u1" || len(a.Shape) != 1 {
		return nil, fmt.Errorf("dtype %s, shape %v: want a 1-D uint8 array of newline-separated UTF-8 names", a.DType, a.Shape)
	}
	b := make([]byte, len(a.Data))
	for i, v := range a.Data {
		b[i] = byte(v)
	}
	if !utf8.Valid(b) {
		return nil, errors.New("names are not valid UTF-8")
	}
	return strings.Split(string(b), "\n"), nil
}

// WriteNPZ writes p as an .npz (inputs and targets as float64 "<f8",
// dt as a 0-d float64, input_names and target_names as newline-separated
// UTF-8 in uint8 arrays), atomically.
func WriteNPZ(path string, p *Data) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("probe: %s: %w", path, err)
	}
	q := *p
	q.fillNames()
	return formats.WriteNPZ(path, []*formats.Array{
		formats.NewFloat64Array("inputs", []int{p.Trials, p.Steps, p.InputSize}, p.Inputs),
		formats.NewFloat64Array("targets", []int{p.Trials, p.Steps, p.TargetSize}, p.Targets),
		formats.NewFloat64Array("dt", nil, []float64{p.Dt}),
		encodeNames("input_names", q.InputNames),
		encodeNames("target_names", q.TargetNames),
	})
}

// CSV layout: a header "trial,t,<inputs...>,<targets...>" where target
// columns are named "target:<name>" (all others are inputs), then one row
// per step; an empty field or "nan" in a target column is missing. Rows of a
// trial are consecutive and all trials have the same number of steps.

// ReadCSV reads a probe data set in the CSV layout above. The "t"
// column is optional; when present, dt is the difference of its first two
// values, else 1.
func ReadCSV(r io.Reader) (*Data, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("empty CSV: want a header trial,t,<inputs...>,target:<name>...")
	}
	header := strings.Split(strings.TrimSpace(sc.Text()), ",")
	p := &Data{}
	cols, err := parseCSVHeader(header, sc.Text(), p)
	if err != nil {
		return nil, err
	}
	trialCol, timeCol := cols.trial, cols.time
	var times []float64
	var trialSteps []int
	lastTrial := ""
	line := 1
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != len(header) {
			return nil, fmt.Errorf("CSV line %d has %d fields, the header %d", line, len(fields), len(header))
		}
		trial := strings.TrimSpace(fields[trialCol])
		if trial != lastTrial || len(trialSteps) == 0 {
			trialSteps = append(trialSteps, 0)
			lastTrial = trial
		}
		trialSteps[len(trialSteps)-1]++
		if timeCol >= 0 && len(times) < 2 && len(trialSteps) == 1 {
			v, err := strconv.ParseFloat(strings.TrimSpace(fields[timeCol]), 64)
			if err != nil {
				return nil, fmt.Errorf("CSV line %d, column \"t\": %w", line, err)
			}
			times = append(times, v)
		}
		if err := appendCSVValues(p, fields, cols, line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(trialSteps) == 0 {
		return nil, errors.New("CSV has a header but no rows")
	}
	for i, n := range trialSteps {
		if n != trialSteps[0] {
			return nil, fmt.Errorf("CSV trial %d has %d steps but trial 1 has %d; every trial needs the same number of steps (or rows of a trial are not consecutive)", i+1, n, trialSteps[0])
		}
	}
	p.Trials, p.Steps = len(trialSteps), trialSteps[0]
	p.Dt = 1
	if len(times) == 2 {
		p.Dt = times[1] - times[0]
	}
	return p, nil
}

// csvColumns are the indices of a probe CSV's columns (-1: absent).
type csvColumns struct {
	trial, time int
	in, tg      []int
}

// parseCSVHeader finds the columns of header (the line text) and sets
// p's input and target names and sizes.
func parseCSVHeader(header []string, text string, p *Data) (csvColumns, error) {
	cols := csvColumns{trial: -1, time: -1}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "trial":
			cols.trial = i
		case h == "t":
			cols.time = i
		case strings.HasPrefix(h, "target:"):
			cols.tg = append(cols.tg, i)
			p.TargetNames = append(p.TargetNames, strings.TrimPrefix(h, "target:"))
		case h == "":
			return cols, fmt.Errorf("CSV header column %d has no name", i+1)
		default:
			cols.in = append(cols.in, i)
			p.InputNames = append(p.InputNames, h)
		}
	}
	if cols.trial < 0 {
		return cols, fmt.Errorf("CSV header %q has no \"trial\" column", text)
	}
	if len(cols.in) == 0 || len(cols.tg) == 0 {
		return cols, fmt.Errorf("CSV header %q: want at least one input column and one \"target:<name>\" column", text)
	}
	p.InputSize, p.TargetSize = len(cols.in), len(cols.tg)
	return cols, nil
}

// appendCSVValues appends the inputs and targets of one row (line) to p;
// an empty or "nan" target is missing (NaN).
func appendCSVValues(p *Data, fields []string, cols csvColumns, line int) error {
	for c, col := range cols.in {
		v, err := strconv.ParseFloat(strings.TrimSpace(fields[col]), 64)
		if err != nil {
			return fmt.Errorf("CSV line %d, input %q: %w", line, p.InputNames[c], err)
		}
		p.Inputs = append(p.Inputs, v)
	}
	for c, col := range cols.tg {
		f := strings.TrimSpace(fields[col])
		v := math.NaN()
		if f != "" {
			var err error
			if v, err = strconv.ParseFloat(f, 64); err != nil {
				return fmt.Errorf("CSV line %d, target %q: %w", line, p.TargetNames[c], err)
			}
		}
		p.Targets = append(p.Targets, v)
	}
	return nil
}

// WriteCSV writes p in the CSV layout (missing targets as empty fields).
func WriteCSV(w io.Writer, p *Data) error {
	bw := bufio.NewWriter(w)
	q := *p
	q.fillNames()
	bw.WriteString("trial,t")
	for _, n := range q.InputNames {
		bw.WriteString("," + n)
	}
	for _, n := range q.TargetNames {
		bw.WriteString(",target:" + n)
	}
	bw.WriteByte('\n')
	var line []byte
	for t := 0; t < p.Trials; t++ {
		for k := 0; k < p.Steps; k++ {
			line = strconv.AppendInt(line[:0], int64(t), 10)
			line = append(line, ',')
			line = strconv.AppendFloat(line, float64(k)*p.Dt, 'g', -1, 64)
			for _, v := range p.Input(t, k) {
				line = strconv.AppendFloat(append(line, ','), v, 'g', -1, 64)
			}
			for _, v := range p.Target(t, k) {
				line = append(line, ',')
				if !math.IsNaN(v) {
					line = strconv.AppendFloat(line, v, 'g', -1, 64)
				}
			}
			bw.Write(append(line, '\n'))
		}
	}
	return bw.Flush()
}
