package workflow

import (
	"math"

	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/train"
)

// CheckEmulatorSettings reports the first setting of an emulator training
// run that cannot work, before its run directory records them: the
// training settings c and the windowing w of the probe data. The
// OptionError names the fields.
func CheckEmulatorSettings(c train.EmulatorConfig, w probe.WindowOptions) error {
	switch {
	case !(w.ValFraction > 0 && w.ValFraction < 1):
		return invalidf("{ValFraction} %v: want a fraction of the trials strictly between 0 and 1 (the best epoch is chosen on the validation trials)", w.ValFraction)
	case c.Epochs <= 0:
		return invalidf("{Epochs} %d: want at least 1", c.Epochs)
	case c.Batch <= 0:
		return invalidf("{Batch} %d: want at least 1", c.Batch)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return invalidf("{LR} %v: want a positive number", c.LR)
	case !(c.LRFinal >= 0) || math.IsInf(c.LRFinal, 0):
		return invalidf("{LRFinal} %v: want a number >= 0", c.LRFinal)
	case !(c.GradClip >= 0) || math.IsInf(c.GradClip, 0):
		return invalidf("{GradClip} %v: want a norm >= 0 (0 = off)", c.GradClip)
	case c.Patience < 0:
		return invalidf("{Patience} %d: want >= 0 (0 = never stop early)", c.Patience)
	case c.ClipFloor < 0:
		return invalidf("{ClipFloor} %d: want >= 0 (0 = plain ReLU)", c.ClipFloor)
	case w.Length < 2:
		return invalidf("{Length} %d: want at least 2 steps", w.Length)
	case w.Stride < 0:
		return invalidf("{Stride} %d: want >= 0 (0 = the window length)", w.Stride)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return invalidf("{Hidden}: layer %d width %d, want >= 1", i+1, h)
		}
	}
	return nil
}

// SpikingEmulatorHidden is the hidden widths of a spiking emulator run
// that does not name them: one recurrent LIF layer for the sequence task,
// two integrate-and-fire layers of 128 for a forward model.
func SpikingEmulatorHidden(task probe.TaskKind) []int {
	if task == probe.ForwardTask {
		return []int{128, 128}
	}
	return train.DefaultSpikingEmulatorConfig().Hidden
}
