package main

import (
	"fmt"

	"github.com/spikebridge/spikebridge/formats"
)

// inspectRecurrent describes a recurrent (e-prop) model file: its
// population as the architecture, the provenance and task settings.
func inspectRecurrent(path string, metadata map[string]string, report *inspectReport) error {
	net, _, meta, err := formats.LoadRecurrent(path)
	if err != nil {
		report.ModelError = err.Error()
		report.Metadata = metadata
		return nil
	}
	alif := 0
	for _, b := range net.Adaptation {
		if b != 0 {
			alif++
		}
	}
	report.Model = &inspectModel{Kind: meta.Kind, Version: meta.Version,
		Architecture: fmt.Sprintf("%d-%d(%d LIF, %d ALIF, recurrent)-%d %s", net.Inputs, net.Neurons, net.Neurons-alif, alif, net.Outputs, net.Output),
		Input:        meta.Input, Output: meta.Output, Provenance: meta.Provenance}
	return nil
}
