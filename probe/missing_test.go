package probe

import (
	"math"
	"math/rand/v2"
	"testing"
)

// maskedMSE is the NaN-masked mean squared error of a linear predictor
// y = W x over s (the emulators' loss: missing targets count nothing),
// written out here so the test does not depend on train/.
func maskedMSE(s *Samples, w []float64) (float64, int) {
	sum, n := 0.0, 0
	for r := 0; r < s.Rows; r++ {
		x, y := s.Row(r)
		for o, v := range y {
			if math.IsNaN(float64(v)) {
				continue
			}
			pred := 0.0
			for i, xi := range x {
				pred += w[o*len(x)+i] * float64(xi)
			}
			e := pred - float64(v)
			sum += e * e
			n++
		}
	}
	return sum / float64(n), n
}

// TestSamplesSkipMissing: a data set where in some steps every target is
// missing and in one step one target is missing trains on the same loss as
// the clean data set with exactly the affected samples removed (and the one
// missing target masked), and the left-out samples are counted.
func TestSamplesSkipMissing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	clean := &Data{Trials: 6, Steps: 40, InputSize: 1, TargetSize: 2, Dt: 0.05}
	clean.Inputs = make([]float64, clean.Trials*clean.Steps)
	clean.Targets = make([]float64, clean.Trials*clean.Steps*2)
	for i := range clean.Inputs {
		clean.Inputs[i] = rng.NormFloat64()
	}
	for i := range clean.Targets {
		clean.Targets[i] = math.Sin(float64(i)/7) + 0.1*rng.NormFloat64()
	}
	clean.fillNames()
	missing := *clean
	missing.Targets = append([]float64(nil), clean.Targets...)
	missing.Inputs = append([]float64(nil), clean.Inputs...)
	nan := math.NaN()
	// Steps whose every target is missing (trial, step), one partly
	// missing step and one missing input.
	allMissing := [][2]int{{0, 5}, {2, 17}, {4, 30}}
	for _, ts := range allMissing {
		tg := missing.Target(ts[0], ts[1])
		tg[0], tg[1] = nan, nan
	}
	missing.Target(1, 9)[1] = nan
	missing.Input(3, 22)[0] = nan

	split, err := SplitWindows(clean, WindowOptions{Length: 40})
	if err != nil {
		t.Fatal(err)
	}
	windows := append(append([]Window(nil), split.Train...), split.Val...)
	task, err := NewTask(ForwardTask, clean, split)
	if err != nil {
		t.Fatal(err)
	}
	full, err := task.Samples(clean, windows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := task.Samples(&missing, windows)
	if err != nil {
		t.Fatalf("samples with missing values: %v", err)
	}

	// The expected set: the clean samples without those that start from a
	// missing state or input (steps k of allMissing, the partly missing step
	// 9 of trial 1, step 22 of trial 3) or whose target is wholly missing
	// (steps k-1 of allMissing); sample 8 of trial 1 keeps its second
	// target masked. One window per trial: sample (trial, k) is row
	// index(trial)*39 + k.
	row := map[[2]int]int{}
	for wi, w := range windows {
		for k := 0; k < 39; k++ {
			row[[2]int{w.Trial, k}] = wi*39 + k
		}
	}
	drop := map[int]bool{}
	for _, ts := range allMissing {
		drop[row[ts]] = true
		drop[row[[2]int{ts[0], ts[1] - 1}]] = true
	}
	drop[row[[2]int{1, 9}]] = true
	drop[row[[2]int{3, 22}]] = true
	want := &Samples{In: full.In, Out: full.Out}
	for r := 0; r < full.Rows; r++ {
		if drop[r] {
			continue
		}
		x, y := full.Row(r)
		y = append([]float32(nil), y...)
		if r == row[[2]int{1, 8}] {
			y[1] = float32(nan)
		}
		want.X = append(want.X, x...)
		want.Y = append(want.Y, y...)
		want.Rows++
	}
	if got.Rows != want.Rows || got.MissingInput != 5 || got.MissingTarget != 3 {
		t.Fatalf("%d samples (%d left out for a missing input, %d for missing targets), want %d (5, 3)",
			got.Rows, got.MissingInput, got.MissingTarget, want.Rows)
	}
	w := make([]float64, full.In*full.Out)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	lossGot, nGot := maskedMSE(got, w)
	lossWant, nWant := maskedMSE(want, w)
	if nGot != nWant || math.Abs(lossGot-lossWant) > 1e-12*lossWant || math.IsNaN(lossGot) {
		t.Fatalf("loss %v over %d targets, want %v over %d (the clean samples with the missing ones removed)", lossGot, nGot, lossWant, nWant)
	}
	lossFull, _ := maskedMSE(full, w)
	if lossFull == lossGot {
		t.Fatal("the test cannot fail: removing samples did not change the loss")
	}
}
