package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/learn"
)

// A short FOLLOW run reports every trial once, writes one CSV row per
// trial, and its first/last-tenth figures are the means of its curve.
func TestLearnFollowCurve(t *testing.T) {
	dir := t.TempDir()
	cfg := learn.DefaultFollowConfig()
	cfg.Neurons, cfg.InputNeurons, cfg.TrialSeconds = 30, 30, 0.2
	o := FollowOptions{Config: cfg, Trials: 3, EvalTrials: 1, Warmup: 0.1, FreeSeconds: 2, Curve: filepath.Join(dir, "curve.csv")}
	var seen []float64
	res, err := LearnFollow(o, func(r learn.FollowTrial) { seen = append(seen, r.ErrorRMS) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || res.Trials != 3 || res.CurveFile != o.Curve || res.FreeSeconds != 2 {
		t.Fatalf("%d trials reported, result %+v", len(seen), res)
	}
	// 3 trials: a tenth is one trial.
	if res.ErrorFirst != seen[0] || res.ErrorLast != seen[2] || res.ErrorReduction != seen[0]/seen[2] {
		t.Errorf("first %v last %v reduction %v; the curve %v", res.ErrorFirst, res.ErrorLast, res.ErrorReduction, seen)
	}
	csv, err := os.ReadFile(o.Curve)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(rows) != 4 || rows[0] != "trial,error_rms" || !strings.HasPrefix(rows[3], "2,") {
		t.Errorf("curve.csv:\n%s", csv)
	}
	var oe *OptionError
	o.Trials = 0
	if _, err := LearnFollow(o, nil); !errors.As(err, &oe) || err.Error() != "Trials 0: want 1 to 100000" {
		t.Errorf("no trials: %v", err)
	}
}
