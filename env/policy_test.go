package env

import (
	"math"
	"testing"
)

// TestRandomPolicy: about half the actions are 1, only 0 and 1 occur, and the mean
// return of random play on CartPole-v1 is the well-known ~22 (gym's random agent).
func TestRandomPolicy(t *testing.T) {
	p := NewRandomPolicy(1)
	ones := 0
	const n = 100000
	for i := 0; i < n; i++ {
		switch p.Act(nil) {
		case 1:
			ones++
		case 0:
		default:
			t.Fatal("action outside {0, 1}")
		}
	}
	// Binomial std sqrt(n)/2 ~ 158; allow 5 sigma.
	if math.Abs(float64(ones)-n/2) > 800 {
		t.Fatalf("%d ones in %d", ones, n)
	}
	cp, _ := NewCartPole("v1")
	res, err := Run(cp, NewRandomPolicy(0), RunOptions{Episodes: 1000, Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	mean := 0.0
	for _, r := range res.Returns {
		mean += r / 1000
	}
	if mean < 19 || mean > 25 {
		t.Fatalf("random policy mean return %v, want about 22", mean)
	}
}

// TestUprightPolicy: the controller balances far longer than random play.
func TestUprightPolicy(t *testing.T) {
	for _, tc := range []struct {
		version string
		minMean float64
	}{{"v1", 450}, {"v0", 190}} {
		cp, _ := NewCartPole(tc.version)
		res, err := Run(cp, UprightPolicy{}, RunOptions{Episodes: 50, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		mean := 0.0
		for _, r := range res.Returns {
			mean += r / 50
		}
		if mean < tc.minMean {
			t.Errorf("%s: upright policy mean return %v, want >= %v", tc.version, mean, tc.minMean)
		}
	}
}
