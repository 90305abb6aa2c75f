package probe

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

// testProbe returns trials of a damped rotation driven by its input:
// target (x, y), input u, deterministic.
func testProbe(trials, steps int) *Data {
	p := &Data{Trials: trials, Steps: steps, InputSize: 1, TargetSize: 2, Dt: 0.1,
		InputNames: []string{"u"}, TargetNames: []string{"x", "y"}}
	for t := 0; t < trials; t++ {
		x, y := 1+0.1*float64(t), -0.5*float64(t%3)
		for k := 0; k < steps; k++ {
			u := math.Sin(0.3*float64(k) + float64(t))
			p.Inputs = append(p.Inputs, u)
			p.Targets = append(p.Targets, x, y)
			x, y = 0.99*(x*math.Cos(0.1)-y*math.Sin(0.1)), 0.99*(x*math.Sin(0.1)+y*math.Cos(0.1))+0.05*u
		}
	}
	return p
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestProbeNPZRoundTrip(t *testing.T) {
	p := testProbe(4, 30)
	p.Targets[7] = math.NaN()
	p.InputNames, p.TargetNames = []string{"torque"}, []string{"q1", "dq1 (rad/s)"}
	path := filepath.Join(t.TempDir(), "probe.npz")
	if err := WriteNPZ(path, p); err != nil {
		t.Fatal(err)
	}
	q, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.Trials != 4 || q.Steps != 30 || q.InputSize != 1 || q.TargetSize != 2 || q.Dt != 0.1 {
		t.Fatalf("read %d trials of %d steps, %d in, %d out, dt %v", q.Trials, q.Steps, q.InputSize, q.TargetSize, q.Dt)
	}
	if !sameFloats(p.Inputs, q.Inputs) || !sameFloats(p.Targets, q.Targets) {
		t.Error("values differ after the round trip")
	}
	if !slices.Equal(q.InputNames, p.InputNames) || !slices.Equal(q.TargetNames, p.TargetNames) {
		t.Errorf("names %q %q after the round trip, want %q %q", q.InputNames, q.TargetNames, p.InputNames, p.TargetNames)
	}
}

func TestProbeCSVRoundTrip(t *testing.T) {
	p := testProbe(3, 12)
	p.Targets[5] = math.NaN()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "trial,t,u,target:x,target:y\n") {
		t.Fatalf("header %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
	q, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Check(); err != nil {
		t.Fatal(err)
	}
	if q.Trials != 3 || q.Steps != 12 || q.Dt != 0.1 || q.TargetNames[1] != "y" || q.InputNames[0] != "u" {
		t.Fatalf("read %+v", *q)
	}
	if !sameFloats(p.Inputs, q.Inputs) || !sameFloats(p.Targets, q.Targets) {
		t.Error("values differ after the round trip")
	}
}

func writeNPZ(t *testing.T, arrays ...*formats.Array) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bad.npz")
	if err := formats.WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProbeBadInputs(t *testing.T) {
	nan := math.NaN()
	ones := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i%7) - 3
		}
		return v
	}
	dt := formats.NewFloat64Array("dt", nil, []float64{0.1})
	withValue := func(v []float64, i int, x float64) []float64 { v[i] = x; return v }
	csvPath := func(text string) string {
		path := filepath.Join(t.TempDir(), "bad.csv")
		os.WriteFile(path, []byte(text), 0o644)
		return path
	}
	allNaN := ones(3 * 10 * 2)
	for i := 1; i < len(allNaN); i += 2 {
		allNaN[i] = nan
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"mismatched steps", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 9, 2}, ones(54)), dt), "inputs have 3 trials of 10 steps but targets 3 trials of 9 steps"},
		{"mismatched trials", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{2, 10, 2}, ones(40)), dt), "inputs have 3 trials of 10 steps but targets 2 trials"},
		{"all-NaN target", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, allNaN), dt), `target "y1" is NaN (missing) in every sample`},
		{"NaN input", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, withValue(ones(30), 13, nan)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), dt), `input "u0" of trial 1, step 3 is NaN`},
		{"Inf input", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, withValue(ones(30), 2, math.Inf(1))),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), dt), `input "u0" of trial 0, step 2 is +Inf`},
		{"Inf target", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, withValue(ones(60), 3, math.Inf(-1))), dt), `target "y1" of trial 0, step 1 is -Inf`},
		{"no dt", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60))), `no array "dt"`},
		{"zero dt", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), formats.NewFloat64Array("dt", nil, []float64{0})), "dt 0"},
		{"2-d inputs", writeNPZ(t, formats.NewFloat64Array("inputs", []int{30, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), dt), `"inputs": shape [30 1], want 3 dimensions`},
		{"csv ragged trials", csvPath("trial,u,target:x\n0,1,2\n0,1,2\n1,1,2\n"), "trial 2 has 1 steps but trial 1 has 2"},
		{"csv no trial column", csvPath("u,target:x\n1,2\n"), `no "trial" column`},
		{"csv no target", csvPath("trial,u\n0,1\n"), "target:<name>"},
		{"csv bad number", csvPath("trial,u,target:x\n0,abc,2\n"), `line 2, input "u"`},
		{"csv NaN input", csvPath("trial,u,target:x\n0,nan,2\n"), `input "u" of trial 0, step 0 is NaN`},
		{"csv short row", csvPath("trial,u,target:x\n0,1\n"), "line 2 has 2 fields, the header 3"},
		{"unknown type", filepath.Join(t.TempDir(), "probe.txt"), `unknown probe file type ".txt"`},
		{"too few names", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), dt, encodeNames("target_names", []string{"q1"})),
			`"target_names" holds 1 names ["q1"] for 2 columns`},
		{"names as floats", writeNPZ(t, formats.NewFloat64Array("inputs", []int{3, 10, 1}, ones(30)),
			formats.NewFloat64Array("targets", []int{3, 10, 2}, ones(60)), dt, formats.NewFloat64Array("input_names", []int{1}, []float64{65})),
			`"input_names": dtype <f8`},
	} {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestSplitWindowsByTrial(t *testing.T) {
	p := testProbe(10, 250)
	s, err := SplitWindows(p, WindowOptions{ValFraction: 0.2, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ValTrials) != 2 || len(s.TrainTrials) != 8 || len(s.Val) != 4 || len(s.Train) != 16 {
		t.Fatalf("%d/%d trials, %d/%d windows; want 2/8 and 4/16 (2 windows of 100 per 250-step trial)",
			len(s.ValTrials), len(s.TrainTrials), len(s.Val), len(s.Train))
	}
	val := map[int]bool{}
	for _, tr := range s.ValTrials {
		val[tr] = true
	}
	for _, w := range s.Train {
		if val[w.Trial] {
			t.Fatalf("training window from validation trial %d", w.Trial)
		}
	}
	again, _ := SplitWindows(p, WindowOptions{ValFraction: 0.2, Seed: 4})
	for i := range s.Train {
		if s.Train[i] != again.Train[i] {
			t.Fatal("the same seed gives a different shuffle")
		}
	}
	other, _ := SplitWindows(p, WindowOptions{ValFraction: 0.2, Seed: 5})
	same := true
	for i := range s.Train {
		same = same && s.Train[i] == other.Train[i]
	}
	if same {
		t.Error("another seed gives the same shuffle")
	}
	ov, _ := SplitWindows(p, WindowOptions{Length: 50, Stride: 25, ValFraction: 0.2, Seed: 4})
	if got := len(ov.Train) + len(ov.Val); got != 10*9 {
		t.Errorf("%d overlapping windows, want 10 trials x 9", got)
	}
	for _, tc := range []struct {
		opts WindowOptions
		want string
	}{
		{WindowOptions{Length: 251}, "window of 251 steps is longer than a trial (250 steps)"},
		{WindowOptions{Length: 1}, "at least 2"},
		{WindowOptions{ValFraction: 1}, "validation fraction 1"},
		{WindowOptions{Stride: -1}, "stride -1"},
	} {
		if _, err := SplitWindows(p, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := SplitWindows(testProbe(1, 250), WindowOptions{ValFraction: 0.2}); err == nil || !strings.Contains(err.Error(), "cannot be split") {
		t.Errorf("one trial: error %v", err)
	}
}

func TestForwardTaskSamplesAndNRMSE(t *testing.T) {
	p := testProbe(6, 40)
	split, err := SplitWindows(p, WindowOptions{Length: 40, ValFraction: 0.34, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	task, err := NewTask(ForwardTask, p, split)
	if err != nil {
		t.Fatal(err)
	}
	s, err := task.Samples(p, split.Val)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != len(split.Val)*39 || s.In != 3 || s.Out != 2 {
		t.Fatalf("%d rows of %d -> %d", s.Rows, s.In, s.Out)
	}
	// Row 0 is (state, input) at step 0 -> standardised change to step 1.
	tr := split.Val[0].Trial
	x, y := s.Row(0)
	n := task.Norm
	change := p.Target(tr, 1)[1] - p.Target(tr, 0)[1]
	if got, want := float64(y[1]), (change-n.ChangeMean[1])/n.ChangeStd[1]; math.Abs(got-want) > 1e-6 {
		t.Errorf("standardised change %v, want %v", got, want)
	}
	if got, want := float64(x[2]), (p.Input(tr, 0)[0]-n.InputMean[0])/n.InputStd[0]; math.Abs(got-want) > 1e-6 {
		t.Errorf("standardised input %v, want %v", got, want)
	}
	// A predictor off by a constant c (standardised) has NRMSE |c| / std(y).
	rowOf := map[*float32]int{}
	for r := 0; r < s.Rows; r++ {
		xr, _ := s.Row(r)
		rowOf[&xr[0]] = r
	}
	offset := func(c float32) Predictor {
		return func(dst, x []float32) error {
			_, y := s.Row(rowOf[&x[0]])
			for i := range dst {
				dst[i] = y[i] + c
			}
			return nil
		}
	}
	got, err := task.NRMSE(s, offset(0.25))
	if err != nil {
		t.Fatal(err)
	}
	for d := 0; d < 2; d++ {
		var sum, sum2 float64
		for r := 0; r < s.Rows; r++ {
			_, y := s.Row(r)
			sum += float64(y[d])
			sum2 += float64(y[d]) * float64(y[d])
		}
		mean := sum / float64(s.Rows)
		want := 0.25 / math.Sqrt(sum2/float64(s.Rows)-mean*mean)
		if math.Abs(got[d]-want) > 1e-6 {
			t.Errorf("dim %d: NRMSE %v, want %v", d, got[d], want)
		}
	}
	// "No change" (a predicted change of 0 in original units) scores about 1 or more.
	noChange := func(dst, x []float32) error {
		for d := range dst {
			dst[d] = float32(-n.ChangeMean[d] / n.ChangeStd[d])
		}
		return nil
	}
	nc, _ := task.NRMSE(s, noChange)
	for d, v := range nc {
		if v < 0.9 {
			t.Errorf("dim %d: predicting no change scores NRMSE %v, want >= ~1", d, v)
		}
	}
	// A rollout with the true one-step map (linear here, so recomputed in
	// closed form from standardised features) reproduces a trial.
	trial := split.Val[0].Trial
	truthMap := func(dst, x []float32) error {
		xs := float64(x[0])*n.TargetStd[0] + n.TargetMean[0]
		ys := float64(x[1])*n.TargetStd[1] + n.TargetMean[1]
		u := float64(x[2])*n.InputStd[0] + n.InputMean[0]
		nx, ny := 0.99*(xs*math.Cos(0.1)-ys*math.Sin(0.1)), 0.99*(xs*math.Sin(0.1)+ys*math.Cos(0.1))+0.05*u
		dst[0] = float32((nx - xs - n.ChangeMean[0]) / n.ChangeStd[0])
		dst[1] = float32((ny - ys - n.ChangeMean[1]) / n.ChangeStd[1])
		return nil
	}
	roll, err := task.Rollout(truthMap, p.Target(trial, 0), p.Inputs[trial*40:(trial+1)*40], 39)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := TrajectoryNRMSE(roll, p.Targets[trial*80:(trial+1)*80], 2, 40, n.TargetStd)
	if e[0] > 1e-5 || e[1] > 1e-5 {
		t.Errorf("rollout with the true map: NRMSE %v, want ~0 (float32 features)", e)
	}
}

func TestSequenceTaskLayout(t *testing.T) {
	p := testProbe(5, 60)
	p.Targets[2*(0*60+5)+1] = math.NaN() // trial 0, step 5, y
	split, err := SplitWindows(p, WindowOptions{Length: 20, ValFraction: 0.2, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	task, err := NewTask(SequenceTask, p, split)
	if err != nil {
		t.Fatal(err)
	}
	if task.FeatureSize() != 20*1+2 || task.OutputSize() != 20*2 {
		t.Fatalf("sizes %d -> %d", task.FeatureSize(), task.OutputSize())
	}
	all := append(append([]Window(nil), split.Train...), split.Val...)
	s, err := task.Samples(p, all)
	if err != nil {
		t.Fatal(err)
	}
	for r, w := range all {
		x, y := s.Row(r)
		n := task.Norm
		first := p.Target(w.Trial, w.Start)
		if got, want := float64(x[20]), (first[0]-n.TargetMean[0])/n.TargetStd[0]; math.Abs(got-want) > 1e-6 {
			t.Fatalf("window %d: context %v, want %v", r, got, want)
		}
		abs := append([]float32(nil), y...)
		task.Absolute(abs, x)
		for k := 0; k < 20; k++ {
			v := p.Target(w.Trial, w.Start+k)[1]
			if math.IsNaN(v) != math.IsNaN(float64(y[2*k+1])) {
				t.Fatalf("window %d step %d: NaN not carried", r, k)
			}
			// Residual outputs: the change since the first step; Absolute
			// gives the standardised target back.
			if want := (v - first[1]) / n.TargetStd[1]; !math.IsNaN(v) && math.Abs(float64(y[2*k+1])-want) > 1e-5 {
				t.Fatalf("window %d step %d: residual %v, want %v", r, k, y[2*k+1], want)
			}
			if want := (v - n.TargetMean[1]) / n.TargetStd[1]; !math.IsNaN(v) && math.Abs(float64(abs[2*k+1])-want) > 1e-5 {
				t.Fatalf("window %d step %d: absolute %v, want %v", r, k, abs[2*k+1], want)
			}
		}
	}
}

func TestLimitCycleOfSine(t *testing.T) {
	const dt, period, amp = 0.01, 6.5, 2.0
	x := make([]float64, 4000)
	for k := range x {
		x[k] = amp * math.Sin(2*math.Pi*float64(k)*dt/period)
	}
	c, err := LimitCycle(x, dt, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Period-period) > 1e-3 || math.Abs(c.Amplitude-amp) > 1e-3 || c.Cycles != 5 {
		t.Errorf("cycle %+v, want period %v amplitude %v over 5 cycles", c, period, amp)
	}
	if _, err := LimitCycle(make([]float64, 100), dt, 0); err == nil {
		t.Error("a flat signal has no cycle")
	}
}

func FuzzReadCSV(f *testing.F) {
	var buf bytes.Buffer
	WriteCSV(&buf, testProbe(2, 3))
	f.Add(buf.String())
	f.Add("trial,u,target:x\n0,1,\n")
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ReadCSV(strings.NewReader(text))
		if err != nil {
			return
		}
		if p.Check() == nil && len(p.Inputs) != p.Trials*p.Steps*p.InputSize {
			t.Fatal("checked probe with inconsistent sizes")
		}
	})
}
