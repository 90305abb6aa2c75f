package workflow

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/probe"
)

// ProbeResult is what GenerateProbe wrote (`probe generate --json`).
type ProbeResult struct {
	System   string   `json:"system"`
	Path     string   `json:"path"`
	Trials   int      `json:"trials"`
	Steps    int      `json:"steps"`
	Dt       float64  `json:"dt"`
	Duration float64  `json:"duration"`
	Seed     uint64   `json:"seed"`
	Inputs   []string `json:"inputs"`
	Targets  []string `json:"targets"`
}

// WriteText writes the result for people: one line.
func (r ProbeResult) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "wrote %s: %s, %d trials of %d steps (dt %g s), inputs %v, targets %v, seed %d\n",
		r.Path, r.System, r.Trials, r.Steps, r.Dt, r.Inputs, r.Targets, r.Seed)
	return err
}

// GenerateProbe simulates cfg's trials of the built-in system (see
// env.ProbeSystem) into a probe data set at out: .npz, or CSV for any
// other name and for standard output (formats.StdoutPath). The state is
// the target.
func GenerateProbe(system string, cfg env.ProbeConfig, out string) (ProbeResult, error) {
	sys, _, ok := env.ProbeSystem(system)
	if !ok {
		return ProbeResult{}, fmt.Errorf("probe: system %q: want vanderpol or arm", system)
	}
	rec, err := env.GenerateProbe(sys, cfg)
	if err != nil {
		return ProbeResult{}, err
	}
	p := &probe.Data{Trials: rec.Trials, Steps: rec.Steps, InputSize: rec.InputSize, TargetSize: rec.StateSize, Dt: rec.Dt,
		Inputs: rec.Inputs, Targets: rec.States, InputNames: rec.InputNames, TargetNames: rec.StateNames}
	if out != formats.StdoutPath && strings.ToLower(filepath.Ext(out)) == ".npz" {
		err = probe.WriteNPZ(out, p)
	} else {
		err = formats.WriteFileAtomic(out, func(w io.Writer) error { return probe.WriteCSV(w, p) })
	}
	if err != nil {
		return ProbeResult{}, err
	}
	return ProbeResult{system, out, p.Trials, p.Steps, p.Dt, cfg.Duration, cfg.Seed, p.InputNames, p.TargetNames}, nil
}
