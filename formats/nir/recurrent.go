package nir

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spikebridge/spikebridge/formats/hdf5"
	"github.com/spikebridge/spikebridge/snn"
)

// FromRecurrent describes a recurrent population (snn.Recurrent, the e-prop
// networks) as a NIR graph:
//
//	input -> w_in (Linear) -> lif (LIF) -> w_out (Linear) -> readout (LI) -> output
//	                          lif -> w_rec (Linear) -> lif
//
// LIF: τ = -dt/ln(Leak), r = 1/(1-Leak) (so w_in and w_rec are our weights),
// v_threshold = Threshold; LI: τ = -dt/ln(ReadoutLeak), r = 1 (our readout
// is y = κ y + (1-κ) W_out z, NIR's LI held over a step). Our reset
// subtracts the threshold one step after the spike, recurrent spikes arrive
// one step late and refractoriness has no NIR parameter: those go into
// metadata and grade the nodes approximate; adaptive (ALIF) neurons are
// unsupported (NIR has no adaptation node) and kept in metadata only.
func FromRecurrent(net *snn.Recurrent, opts ExportOptions) (*Graph, []NodeGrade, error) {
	if err := net.Validate(); err != nil {
		return nil, nil, fmt.Errorf("nir: %w", err)
	}
	if !(opts.DT > 0) || math.IsInf(opts.DT, 0) {
		return nil, nil, fmt.Errorf("nir: dt %v s, want a finite number > 0", opts.DT)
	}
	dt := opts.DT
	n := net.Neurons
	g := &Graph{Version: Version, Nodes: map[string]*Node{}, Metadata: map[string]string{
		"source": opts.Source, "tool": opts.Tool, "dt": fmtFloat(dt), "kind": "recurrent",
		"readout_output": string(net.Output),
	}}
	node := func(name, typ string, params map[string]*hdf5.Dataset, md map[string]string) {
		if md == nil {
			md = map[string]string{}
		}
		g.Nodes[name] = &Node{Type: typ, Params: params, Metadata: md}
	}
	node("input", "Input", map[string]*hdf5.Dataset{"shape": ints(net.Inputs)}, nil)
	node("w_in", "Linear", map[string]*hdf5.Dataset{"weight": floats64([]int{n, net.Inputs}, net.InputWeights)}, nil)
	lifMD, adaptive := recurrentLIFMetadata(net)
	node("lif", "LIF", map[string]*hdf5.Dataset{
		"tau":         fill(n, -dt/math.Log(net.Leak)),
		"r":           fill(n, 1/(1-net.Leak)),
		"v_leak":      fill(n, 0),
		"v_threshold": fill(n, net.Threshold),
		"v_reset":     fill(n, 0),
	}, lifMD)
	node("w_rec", "Linear", map[string]*hdf5.Dataset{"weight": floats64([]int{n, n}, net.RecurrentWeights)}, nil)
	node("w_out", "Linear", map[string]*hdf5.Dataset{"weight": floats64([]int{net.Outputs, n}, net.OutputWeights)}, nil)
	node("readout", "LI", map[string]*hdf5.Dataset{
		"tau":    fill(net.Outputs, -dt/math.Log(net.ReadoutLeak)),
		"r":      fill(net.Outputs, 1),
		"v_leak": fill(net.Outputs, 0),
	}, map[string]string{"output": string(net.Output)})
	node("output", "Output", map[string]*hdf5.Dataset{"shape": ints(net.Outputs)}, nil)
	g.Edges = [][2]string{{"input", "w_in"}, {"w_in", "lif"}, {"lif", "w_rec"}, {"w_rec", "lif"},
		{"lif", "w_out"}, {"w_out", "readout"}, {"readout", "output"}}

	grades := recurrentGrades(net, adaptive)
	g.Metadata["fidelity"] = string(Worst(grades))
	return g, grades, nil
}

// recurrentLIFMetadata is what the LIF node of net keeps beyond NIR's
// parameters, and the number of adaptive neurons.
func recurrentLIFMetadata(net *snn.Recurrent) (map[string]string, int) {
	lifMD := map[string]string{"reset": "subtract", "reset_delay_steps": "1",
		"refractory_steps": strconv.Itoa(net.RefractorySteps)}
	adaptive := 0
	for _, a := range net.Adaptation {
		if a != 0 {
			adaptive++
		}
	}
	if adaptive > 0 {
		lifMD["adaptation_decay"] = fmtFloat(net.AdaptationDecay)
		s := ""
		for i, a := range net.Adaptation {
			if i > 0 {
				s += ","
			}
			s += fmtFloat(a)
		}
		lifMD["adaptation"] = s
	}
	return lifMD, adaptive
}

// recurrentGrades grades the nodes of FromRecurrent's graph, in order.
func recurrentGrades(net *snn.Recurrent, adaptive int) []NodeGrade {
	lifGrade := NodeGrade{Node: "lif", Type: "LIF", Grade: Approximate,
		Note: "reset by subtracting the threshold one step after the spike (NIR resets to v_reset = 0)"}
	if net.RefractorySteps > 1 {
		lifGrade.Note += fmt.Sprintf("; refractory for %d steps (no NIR parameter)", net.RefractorySteps)
	}
	if adaptive > 0 {
		lifGrade.Grade = Unsupported
		lifGrade.Note += fmt.Sprintf("; %d adaptive (ALIF) neurons: NIR has no threshold adaptation, kept in metadata only", adaptive)
	}
	readoutGrade := NodeGrade{Node: "readout", Type: "LI", Grade: Faithful}
	if net.Output == snn.OutputSoftmax {
		readoutGrade.Note = "softmax over the readouts is applied after the graph (metadata)"
	}
	return []NodeGrade{
		{Node: "input", Type: "Input", Grade: Faithful},
		{Node: "w_in", Type: "Linear", Grade: Faithful},
		lifGrade,
		{Node: "w_rec", Type: "Linear", Grade: Approximate, Note: "recurrent spikes arrive one step later (z(t-1)); NIR edges are instantaneous"},
		{Node: "w_out", Type: "Linear", Grade: Faithful},
		readoutGrade,
		{Node: "output", Type: "Output", Grade: Faithful},
	}
}
