package nir

import (
	"fmt"
	"sort"
	"strings"
)

// chain returns the nodes between Input and Output in order, or the grades
// with the reasons the graph is not a chain snn can run.
func (g *Graph) chain() ([]string, []NodeGrade, error) {
	names := make([]string, 0, len(g.Nodes))
	for n := range g.Nodes {
		names = append(names, n)
	}
	sort.Strings(names)
	succ := map[string][]string{}
	pred := map[string][]string{}
	for _, e := range g.Edges {
		succ[e[0]] = append(succ[e[0]], e[1])
		pred[e[1]] = append(pred[e[1]], e[0])
	}
	gradeOf := map[string]NodeGrade{}
	var inputs, outputs []string
	var problems []string
	for _, n := range names {
		gr := g.importGrade(n, len(pred[n]), len(succ[n]))
		switch gr.Type {
		case "Input":
			inputs = append(inputs, n)
		case "Output":
			outputs = append(outputs, n)
		}
		if gr.Grade == Unsupported {
			problems = append(problems, fmt.Sprintf("%s (%s): %s", n, gr.Type, gr.Note))
		}
		gradeOf[n] = gr
	}
	if len(inputs) != 1 || len(outputs) != 1 {
		problems = append(problems, fmt.Sprintf("%d Input and %d Output nodes, want one each", len(inputs), len(outputs)))
	}
	var chain []string
	if len(problems) == 0 {
		chain, problems = g.walk(inputs[0], outputs[0], succ)
	}
	grades := gradesInOrder(gradeOf, names, append(append(append([]string(nil), inputs...), chain...), outputs...))
	if len(problems) > 0 {
		return nil, grades, fmt.Errorf("%w: %s", ErrUnsupported, strings.Join(problems, "; "))
	}
	return chain, grades, nil
}

// importGrade grades node n, with in incoming and out outgoing edges, for
// a layered snn network.
func (g *Graph) importGrade(n string, in, out int) NodeGrade {
	node := g.Nodes[n]
	gr := NodeGrade{Node: n, Type: node.Type, Grade: Faithful}
	switch node.Type {
	case "Input", "Output", "Affine", "Linear", "Scale", "Flatten", "IF", "LIF", "I":
	case "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d":
		gr.Grade, gr.Note = Unsupported, "convolution and pooling are read but snn has no convolutional layers yet"
	case "CubaLIF", "CubaLI":
		gr.Grade, gr.Note = Unsupported, "current-based synapses (a second state variable per neuron) are not in snn yet"
	case "LI":
		gr.Grade, gr.Note = Unsupported, "a leaky non-spiking readout is not in snn (its membrane readout integrates without leak)"
	default:
		gr.Grade, gr.Note = Unsupported, "node type not mapped onto snn"
	}
	if out > 1 || in > 1 {
		gr.Grade = Unsupported
		gr.Note = strings.TrimPrefix(gr.Note+"; ", "; ") + fmt.Sprintf("%d incoming and %d outgoing edges: recurrent or branching graphs are not layered chains", in, out)
	}
	return gr
}

// walk follows the edges from input to output and returns the nodes
// between them, or why they are not one path through every node.
func (g *Graph) walk(input, output string, succ map[string][]string) (chain, problems []string) {
	seen := map[string]bool{}
	for n := input; ; {
		seen[n] = true
		next := succ[n]
		if len(next) == 0 {
			problems = append(problems, fmt.Sprintf("node %q has no outgoing edge before the Output", n))
			break
		}
		n = next[0]
		if n == output {
			break
		}
		if seen[n] {
			problems = append(problems, fmt.Sprintf("node %q is reached twice: a cycle", n))
			break
		}
		chain = append(chain, n)
	}
	if len(problems) == 0 && len(chain)+2 != len(g.Nodes) {
		problems = append(problems, fmt.Sprintf("%d nodes are not on the path from Input to Output", len(g.Nodes)-len(chain)-2))
	}
	return chain, problems
}

// gradesInOrder lists the grades of the nodes in order first, then of the
// other names.
func gradesInOrder(gradeOf map[string]NodeGrade, names, order []string) []NodeGrade {
	var grades []NodeGrade
	done := map[string]bool{}
	for _, n := range order {
		grades = append(grades, gradeOf[n])
		done[n] = true
	}
	for _, n := range names {
		if !done[n] {
			grades = append(grades, gradeOf[n])
		}
	}
	return grades
}
