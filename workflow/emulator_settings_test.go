package workflow

import (
	"errors"
	"math"
	"testing"

	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
)

// TestCheckEmulatorSettings: the defaults pass; each bad setting is named
// by its field, with its value.
func TestCheckEmulatorSettings(t *testing.T) {
	good := probe.WindowOptions{Length: 50, ValFraction: 0.2}
	if err := CheckEmulatorSettings(train.DefaultRateEmulatorConfig(), good); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for want, bad := range map[string]func(c *train.EmulatorConfig, w *probe.WindowOptions){
		"ValFraction 1: want a fraction":           func(c *train.EmulatorConfig, w *probe.WindowOptions) { w.ValFraction = 1 },
		"LR NaN: want a positive number":           func(c *train.EmulatorConfig, w *probe.WindowOptions) { c.LR = math.NaN() },
		"LRFinal -1: want a number >= 0":           func(c *train.EmulatorConfig, w *probe.WindowOptions) { c.LRFinal = -1 },
		"Length 1: want at least 2 steps":          func(c *train.EmulatorConfig, w *probe.WindowOptions) { w.Length = 1 },
		"Hidden: layer 2 width 0, want >= 1":       func(c *train.EmulatorConfig, w *probe.WindowOptions) { c.Hidden = []int{8, 0} },
		"Stride -3: want >= 0 (0 = the window len": func(c *train.EmulatorConfig, w *probe.WindowOptions) { w.Stride = -3 },
	} {
		c, w := train.DefaultRateEmulatorConfig(), good
		bad(&c, &w)
		err := CheckEmulatorSettings(c, w)
		var oe *OptionError
		if !errors.As(err, &oe) || !oe.Invalid || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("got %v, want an invalid-option error starting %q", err, want)
		}
	}
}
