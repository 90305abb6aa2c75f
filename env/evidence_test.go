package env_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
)

// TestEvidenceLayoutMatchesNESTFixture checks our task's layout against the
// trials NEST's test drew (../shared/fixtures/eprop): every spike of the
// fixture falls where our layout gives a nonzero probability for the cues the
// trial shows, and the fixture's class is the majority of those cues.
func TestEvidenceLayoutMatchesNESTFixture(t *testing.T) {
	paths, err := filepath.Glob(testfixtures.Dir(t, "eprop", "evidence_accumulation_b*.npz"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no eprop/evidence_accumulation_b*.npz fixture: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { checkFixtureLayout(t, path) })
	}
}

func checkFixtureLayout(t *testing.T, path string) {
	arrays, err := formats.ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	x, target := arrays["x"], arrays["target"]
	task := env.NESTEvidenceAccumulation()
	if len(x.Shape) != 4 || x.Shape[2] != task.Steps() || x.Shape[3] != task.Inputs {
		t.Fatalf("fixture x has shape %v, want (iteration, batch, %d, %d)", x.Shape, task.Steps(), task.Inputs)
	}
	trials := x.Shape[0] * x.Shape[1]
	per := task.Steps() * task.Inputs
	pop := task.Inputs / 4
	for n := 0; n < trials; n++ {
		trial := x.Data[n*per : (n+1)*per]
		// Infer each cue's side from which cue population fired in its window.
		right := 0
		cues := make([]int, task.Cues)
		for c := range cues {
			var count [2]int
			for s := task.CueStart(c); s < task.CueStart(c)+task.CueSteps; s++ {
				for i := 0; i < 2*pop; i++ {
					count[i/pop] += int(trial[s*task.Inputs+i])
				}
			}
			if count[0] > 0 == (count[1] > 0) {
				t.Fatalf("trial %d cue %d: left %d and right %d spikes, want exactly one side", n, c, count[0], count[1])
			}
			if count[1] > 0 {
				cues[c] = 1
				right++
			}
		}
		want := 0
		if right > task.Cues/2 {
			want = 1
		}
		if int(target.Data[n]) != want {
			t.Errorf("trial %d: fixture class %v, majority of cues %v gives %d", n, target.Data[n], cues, want)
		}
		prob := layout(task, cues)
		for s := 0; s < task.Steps(); s++ {
			for i := 0; i < task.Inputs; i++ {
				if trial[s*task.Inputs+i] != 0 && prob[s*task.Inputs+i] == 0 {
					t.Fatalf("trial %d: spike at step %d input %d where the layout has probability 0", n, s, i)
				}
			}
		}
	}
}

// layout is the per-step, per-input spike probability, written out directly
// from the task's description (independently of Generate's loop).
func layout(task env.EvidenceAccumulation, cues []int) []float64 {
	steps, in, pop := task.Steps(), task.Inputs, task.Inputs/4
	p := make([]float64, steps*in)
	for c, side := range cues {
		s0 := c*(task.CueSteps+task.SpacingSteps) + task.SpacingSteps
		for s := s0; s < s0+task.CueSteps; s++ {
			for i := side * pop; i < (side+1)*pop; i++ {
				p[s*in+i] = task.SpikeProb
			}
		}
	}
	for s := steps - task.RecallSteps; s < steps; s++ {
		for i := 2 * pop; i < 3*pop; i++ {
			p[s*in+i] = task.SpikeProb
		}
	}
	for s := 1; s < steps; s++ {
		for i := 3 * pop; i < in; i++ {
			p[s*in+i] = task.SpikeProb / 4
		}
	}
	for i := 0; i < in; i++ {
		p[i] = 0
	}
	return p
}

// TestEvidenceStatistics draws many trials and checks the spike rates per
// layout cell, the balance of classes and the cue-side probabilities against
// the task's definition (binomial 5-sigma bounds).
func TestEvidenceStatistics(t *testing.T) {
	task := env.NESTEvidenceAccumulation()
	rng := rand.New(rand.NewPCG(7, 11))
	const trials = 400
	steps, in := task.Steps(), task.Inputs
	dst := make([]float64, steps*in)
	cues := make([]int, task.Cues)
	var spikes, expected, variance float64
	var class1, cueFromMajority, cueCount int
	for n := 0; n < trials; n++ {
		c := task.Generate(rng, dst, cues)
		p := layout(task, cues)
		for i, v := range dst {
			if v != 0 && v != 1 {
				t.Fatalf("trial %d: input value %v, want 0 or 1", n, v)
			}
			if v == 1 && p[i] == 0 {
				t.Fatalf("trial %d: spike at step %d input %d where the layout has probability 0", n, i/in, i%in)
			}
			spikes += v
			expected += p[i]
			variance += p[i] * (1 - p[i])
		}
		right := 0
		for _, s := range cues {
			right += s
		}
		if want := btoi(right > task.Cues/2); c != want {
			t.Fatalf("trial %d: class %d for cues %v", n, c, cues)
		}
		class1 += c
		majority := btoi(right > task.Cues/2)
		for _, s := range cues {
			cueFromMajority += btoi(s == majority)
			cueCount++
		}
	}
	if math.Abs(spikes-expected) > 5*math.Sqrt(variance) {
		t.Errorf("%v spikes in %d trials, the layout expects %.1f ± %.1f", spikes, trials, expected, math.Sqrt(variance))
	}
	if f := float64(class1) / trials; math.Abs(f-0.5) > 5*math.Sqrt(0.25/trials) {
		t.Errorf("class 1 in %.3f of trials, want 0.5", f)
	}
	// A cue agrees with the trial's majority more often than 1 − MinorityProb
	// (the majority is what the draw made of it), but never less.
	if f := float64(cueFromMajority) / float64(cueCount); f < 1-task.MinorityProb {
		t.Errorf("cues from the majority side: %.3f, want at least %.2f", f, 1-task.MinorityProb)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEvidenceDeterministic(t *testing.T) {
	task := env.NESTEvidenceAccumulation()
	draw := func(seed uint64) ([]float64, []int, int) {
		rng := rand.New(rand.NewPCG(seed, 0))
		dst := make([]float64, task.Steps()*task.Inputs)
		cues := make([]int, task.Cues)
		c := task.Generate(rng, dst, cues)
		return dst, cues, c
	}
	a, ca, la := draw(3)
	b, cb, lb := draw(3)
	if !slices.Equal(a, b) || !slices.Equal(ca, cb) || la != lb {
		t.Fatal("the same seed gave different trials")
	}
	c, _, _ := draw(4)
	if slices.Equal(a, c) {
		t.Fatal("seeds 3 and 4 gave the same trial")
	}
}

func TestEvidenceValidate(t *testing.T) {
	good := env.NESTEvidenceAccumulation()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.Steps() != 2250 {
		t.Errorf("NEST's trial is %d steps, want 2250", good.Steps())
	}
	for _, bad := range []func(*env.EvidenceAccumulation){
		func(e *env.EvidenceAccumulation) { e.Inputs = 0 },
		func(e *env.EvidenceAccumulation) { e.Inputs = 42 },
		func(e *env.EvidenceAccumulation) { e.Cues = 0 },
		func(e *env.EvidenceAccumulation) { e.RecallSteps = 0 },
		func(e *env.EvidenceAccumulation) { e.SpikeProb = math.NaN() },
		func(e *env.EvidenceAccumulation) { e.MinorityProb = 1.5 },
	} {
		e := good
		bad(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%+v: no error", e)
		}
	}
}

func TestEvidenceGenerateAllocsNothing(t *testing.T) {
	task := env.NESTEvidenceAccumulation()
	rng := rand.New(rand.NewPCG(1, 2))
	dst := make([]float64, task.Steps()*task.Inputs)
	cues := make([]int, task.Cues)
	if n := testing.AllocsPerRun(5, func() { task.Generate(rng, dst, cues) }); n != 0 {
		t.Errorf("Generate allocates %v times per trial", n)
	}
}
