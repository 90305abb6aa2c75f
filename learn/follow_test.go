package learn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// With feedback the decoded output follows the reference (error ≈ x/(k+1));
// learning the weights by FOLLOW's rule lowers that error against the same
// run with the rule off, and the same seed gives the same weights.
func TestFollowLearningLowersTheError(t *testing.T) {
	cfg := DefaultFollowConfig()
	cfg.Neurons, cfg.InputNeurons, cfg.Seed = 100, 50, 3
	run := func(lr float64) (*Follow, float64) {
		c := cfg
		c.LearningRate = lr
		f, err := NewFollow(c)
		if err != nil {
			t.Fatal(err)
		}
		curve := f.Train(8, rand.New(rand.NewPCG(4, 5)), nil)
		late := 0.0
		for _, r := range curve[4:] {
			late += r.ErrorRMS / 4
		}
		return f, late
	}
	_, without := run(0)
	learned, with := run(cfg.LearningRate)
	again, _ := run(cfg.LearningRate)
	t.Logf("error RMS over trials 5-8: %.4f without learning, %.4f with", without, with)
	if !(with < 0.7*without) {
		t.Errorf("learning left the error at %v (without: %v)", with, without)
	}
	if without > 0.1 || math.IsNaN(with) {
		t.Errorf("feedback does not make the output follow: error %v", without)
	}
	if !slices.Equal(learned.Recurrent, again.Recurrent) || !slices.Equal(learned.FeedForward, again.FeedForward) {
		t.Error("the same seed gave different weights")
	}
}

func TestFollowConfigCheck(t *testing.T) {
	for _, edit := range []func(*FollowConfig){
		func(c *FollowConfig) { c.Neurons = 0 },
		func(c *FollowConfig) { c.Dt = 0 },
		func(c *FollowConfig) { c.StateScale[1] = -1 },
		func(c *FollowConfig) { c.LearningRate = math.NaN() },
		func(c *FollowConfig) { c.InputTau = 0 },
	} {
		c := DefaultFollowConfig()
		edit(&c)
		if _, err := NewFollow(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
