package nir

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spikebridge/spikebridge/formats/hdf5"
	"github.com/spikebridge/spikebridge/snn"
)

// Grade says how faithfully a node carries our semantics.
type Grade string

// Grades, best first.
const (
	Faithful    Grade = "faithful"
	Approximate Grade = "approximate"
	Unsupported Grade = "unsupported"
)

// NodeGrade is the grade of one node with the reason when it is not
// faithful.
type NodeGrade struct {
	Node  string `json:"node"`
	Type  string `json:"type"`
	Grade Grade  `json:"grade"`
	Note  string `json:"note,omitempty"`
}

// Worst returns the lowest grade of a list (Faithful for none).
func Worst(grades []NodeGrade) Grade {
	worst := Faithful
	for _, g := range grades {
		switch {
		case g.Grade == Unsupported:
			return Unsupported
		case g.Grade == Approximate:
			worst = Approximate
		}
	}
	return worst
}

// ExportOptions describe the file being written.
type ExportOptions struct {
	// DT is the step length in seconds that the continuous-time parameters
	// are computed for (> 0).
	DT float64
	// Source names the model file; Tool the writer ("spikebridge 0.1.0").
	Source, Tool string
}

// FromSNN describes a spiking network as a NIR graph (see the package
// documentation for the mapping) and grades every node.
func FromSNN(net *snn.Network, opts ExportOptions) (*Graph, []NodeGrade, error) {
	if net == nil || len(net.Layers) == 0 {
		return nil, nil, fmt.Errorf("nir: no network to export")
	}
	if !(opts.DT > 0) || math.IsInf(opts.DT, 0) {
		return nil, nil, fmt.Errorf("nir: dt %v s, want a finite number > 0", opts.DT)
	}
	g := exportGraph(net, opts)
	grades, prev := exportInput(g, net)
	for i, l := range net.Layers {
		layerGrades, neuron, err := exportLayer(g, net, i, l, prev, opts.DT)
		if err != nil {
			return nil, nil, err
		}
		grades = append(grades, layerGrades...)
		prev = neuron
	}
	g.Nodes["output"] = &Node{Type: "Output", Params: map[string]*hdf5.Dataset{"shape": ints(net.OutputSize())}, Metadata: map[string]string{}}
	g.Edges = append(g.Edges, [2]string{prev, "output"})
	grades = append(grades, NodeGrade{Node: "output", Type: "Output", Grade: Faithful})
	g.Metadata["fidelity"] = string(Worst(grades))
	return g, grades, nil
}

// exportGraph is the empty graph with the network-wide settings in its
// metadata.
func exportGraph(net *snn.Network, opts ExportOptions) *Graph {
	g := &Graph{Version: Version, Nodes: map[string]*Node{}, Metadata: map[string]string{
		"source":       opts.Source,
		"tool":         opts.Tool,
		"dt":           fmtFloat(opts.DT),
		"timesteps":    strconv.Itoa(net.Timesteps),
		"propagation":  string(net.Propagation),
		"readout":      string(net.Readout),
		"output_scale": fmtFloat32(net.OutputScale),
		"encoding":     string(net.Input.Encoding),
		"gain":         fmtFloat32(net.Input.Gain),
	}}
	if net.Input.Encoding == snn.Rate {
		g.Metadata["input_threshold"] = fmtFloat32(net.Input.Threshold)
		g.Metadata["input_initial_membrane"] = fmtFloat32(net.Input.InitialMembrane)
	}
	return g
}

// exportInput adds the Input node (and a Scale node for an input gain) and
// returns their grades and the node the first layer reads from.
func exportInput(g *Graph, net *snn.Network) ([]NodeGrade, string) {
	in := net.InputSize()
	g.Nodes["input"] = &Node{Type: "Input", Params: map[string]*hdf5.Dataset{"shape": ints(in)}, Metadata: map[string]string{}}
	inputGrade := NodeGrade{Node: "input", Type: "Input", Grade: Faithful}
	switch net.Input.Encoding {
	case snn.Rate:
		inputGrade.Grade, inputGrade.Note = Unsupported, "rate encoding (IF input neurons with signed spikes) is kept in metadata only; NIR tools feed the input as a current"
	case snn.Poisson:
		inputGrade.Grade, inputGrade.Note = Unsupported, "Poisson encoding has no NIR node; kept in metadata only"
	}
	if net.Input.Gain != 1 && net.Input.Encoding == snn.Analog {
		// The gain scales the input before the first Affine: a Scale node.
		g.Nodes["input_gain"] = &Node{Type: "Scale", Params: map[string]*hdf5.Dataset{"scale": fill(in, float64(net.Input.Gain))}, Metadata: map[string]string{}}
		g.Edges = append(g.Edges, [2]string{"input", "input_gain"})
		return []NodeGrade{inputGrade, {Node: "input_gain", Type: "Scale", Grade: Faithful}}, "input_gain"
	}
	return []NodeGrade{inputGrade}, inputGrade.Node
}

// exportLayer adds layer i as a Linear or Affine node and its neuron node
// fed from prev, and returns their grades and the neuron node's name.
func exportLayer(g *Graph, net *snn.Network, i int, l snn.Layer, prev string, dt float64) ([]NodeGrade, string, error) {
	name := l.Name
	if name == "" {
		name = fmt.Sprintf("layer%d", i)
	}
	syn, neuron := name+".affine", name
	if g.Nodes[syn] != nil || g.Nodes[neuron] != nil {
		return nil, "", fmt.Errorf("nir: layer %d: node name %q already used", i, name)
	}
	// A layer without bias is a Linear node, so it comes back without one.
	synapse := &Node{Type: "Linear", Metadata: map[string]string{}, Params: map[string]*hdf5.Dataset{
		"weight": floats32([]int{l.Out, l.In}, l.Weights)}}
	if l.Bias != nil {
		synapse.Type = "Affine"
		synapse.Params["bias"] = floats32([]int{l.Out}, l.Bias)
	}
	g.Nodes[syn] = synapse
	md := map[string]string{"layer": l.Name}
	n := &Node{Params: map[string]*hdf5.Dataset{}, Metadata: md}
	grade := NodeGrade{Node: neuron, Grade: Faithful}
	if i == len(net.Layers)-1 && net.Readout == snn.Membrane {
		n.Type = "I"
		n.Params["r"] = fill(l.Out, 1/dt)
		md["readout"] = "membrane: output = v / T * output_scale"
	} else {
		exportSpikingNeuron(n, l, dt)
		if notes := approximations(net, i, l); len(notes) > 0 {
			grade.Grade, grade.Note = Approximate, joinNotes(notes)
		}
	}
	grade.Type = n.Type
	g.Nodes[neuron] = n
	g.Edges = append(g.Edges, [2]string{prev, syn}, [2]string{syn, neuron})
	return []NodeGrade{{Node: syn, Type: synapse.Type, Grade: Faithful}, grade}, neuron, nil
}

// exportSpikingNeuron fills n as the IF or LIF node of layer l, with what
// NIR has no parameter for in its metadata.
func exportSpikingNeuron(n *Node, l snn.Layer, dt float64) {
	md := n.Metadata
	thresholds := make([]float64, l.Out)
	for o := range thresholds {
		if l.Thresholds != nil {
			thresholds[o] = float64(l.Thresholds[o])
		} else {
			thresholds[o] = float64(l.Threshold)
		}
	}
	n.Params["v_threshold"] = floats64([]int{l.Out}, thresholds)
	md["threshold"] = fmtFloat32(l.Threshold)
	if l.Thresholds != nil {
		md["per_neuron_thresholds"] = "true"
	}
	n.Params["v_reset"] = fill(l.Out, 0)
	if l.Leak == 1 {
		n.Type = "IF"
		n.Params["r"] = fill(l.Out, 1/dt)
	} else {
		n.Type = "LIF"
		beta := float64(l.Leak)
		n.Params["tau"] = fill(l.Out, -dt/math.Log(beta))
		n.Params["r"] = fill(l.Out, 1/(1-beta))
		n.Params["v_leak"] = fill(l.Out, 0)
	}
	md["reset"] = string(resetMode(l))
	if l.StrictThreshold {
		md["strict_threshold"] = "true"
	}
	md["initial_membrane"] = fmtFloat32(l.InitialMembrane)
	if l.InitialMembranes != nil {
		md["initial_membranes"] = joinFloats32(l.InitialMembranes)
	}
}

// approximations are the ways spiking layer i of net differs from what a
// NIR tool runs, in words.
func approximations(net *snn.Network, i int, l snn.Layer) []string {
	var notes []string
	if resetMode(l) == snn.ResetSubtract {
		notes = append(notes, "reset by subtraction (NIR resets to v_reset = 0)")
	}
	if l.InitialMembranes != nil {
		notes = append(notes, "per-neuron v(0) (NIR starts at v_leak = 0)")
	} else if l.InitialMembrane != 0 {
		notes = append(notes, fmt.Sprintf("v(0) = %g threshold (NIR starts at v_leak = 0)", l.InitialMembrane))
	}
	if net.Propagation == snn.NextStep && i > 0 {
		notes = append(notes, "next-step propagation (spikes reach this layer one step late; NIR edges are instantaneous)")
	}
	return notes
}

// resetMode is the layer's reset, subtraction when unset.
func resetMode(l snn.Layer) snn.ResetMode {
	if l.Reset == "" {
		return snn.ResetSubtract
	}
	return l.Reset
}

func joinNotes(notes []string) string {
	s := notes[0]
	for _, n := range notes[1:] {
		s += "; " + n
	}
	return s
}

func fmtFloat(v float64) string   { return strconv.FormatFloat(v, 'g', -1, 64) }
func fmtFloat32(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
func parseFloat32(s string) (float32, error) {
	v, err := strconv.ParseFloat(s, 32)
	return float32(v), err
}

func joinFloats32(v []float32) string {
	s := ""
	for i, x := range v {
		if i > 0 {
			s += ","
		}
		s += fmtFloat32(x)
	}
	return s
}

func ints(v ...int) *hdf5.Dataset {
	d := &hdf5.Dataset{Shape: []int{len(v)}, Kind: hdf5.Int64}
	for _, x := range v {
		d.Int64 = append(d.Int64, int64(x))
	}
	return d
}

func fill(n int, v float64) *hdf5.Dataset {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = v
	}
	return floats64([]int{n}, vals)
}

func floats64(shape []int, v []float64) *hdf5.Dataset {
	d := &hdf5.Dataset{Shape: shape, Kind: hdf5.Float64, Float64: append([]float64(nil), v...)}
	if len(v) > 1 {
		d.Deflate = 4
	}
	return d
}

func floats32(shape []int, v []float32) *hdf5.Dataset {
	d := &hdf5.Dataset{Shape: shape, Kind: hdf5.Float32, Float32: append([]float32(nil), v...)}
	if len(v) > 1 {
		d.Deflate = 4
	}
	return d
}
