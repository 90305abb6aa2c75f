package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// graphRunner executes a Gorgonia graph built once: each op node's Do in
// topological order (G.Sort), with its children's values as arguments, and
// nothing else. It is what G.NewTapeMachine(g).RunAll does for a CPU graph
// without the per-call costs that dominate a graph this small: RunAll locks
// the OS thread and runs the program on a new goroutine (two thread
// hand-offs per call), and Reset drops every register so each op allocates
// its result again. With ops that return preallocated buffers (dqn_ops*.go),
// run allocates nothing.
//
// Only the nodes the outputs depend on run. Leaves (inputs, constants) are
// read with Value at every run, so binding a new value to an input works.
type graphRunner struct {
	leaves []runLeaf
	steps  []runStep
	vals   []G.Value // by position in the sorted order
	outIdx []int
	outs   []G.Value
}

type runLeaf struct {
	node *G.Node
	idx  int
}

type runStep struct {
	node *G.Node
	op   G.Op
	in   []int
	args []G.Value
	idx  int
}

// newGraphRunner prepares g for computing outputs.
func newGraphRunner(g *G.ExprGraph, outputs G.Nodes) (*graphRunner, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, fmt.Errorf("train: sorting the graph: %w", err)
	}
	// G.Sort puts every node before its children; run children first.
	pos := make(map[*G.Node]int, len(sorted))
	for i := range sorted {
		pos[sorted[len(sorted)-1-i]] = i
	}
	children := func(n *G.Node) []*G.Node {
		var cs []*G.Node
		it := g.From(n.ID())
		for it.Next() {
			cs = append(cs, it.Node().(*G.Node))
		}
		return cs
	}
	needed := make(map[*G.Node]bool)
	var mark func(n *G.Node)
	mark = func(n *G.Node) {
		if needed[n] {
			return
		}
		needed[n] = true
		for _, c := range children(n) {
			mark(c)
		}
	}
	r := &graphRunner{vals: make([]G.Value, len(sorted)), outs: make([]G.Value, len(outputs))}
	for _, n := range outputs {
		if _, ok := pos[n]; !ok {
			return nil, fmt.Errorf("train: output %v is not in the graph", n)
		}
		mark(n)
		r.outIdx = append(r.outIdx, pos[n])
	}
	for i := range sorted {
		n := sorted[len(sorted)-1-i]
		if !needed[n] {
			continue
		}
		cs := children(n)
		if len(cs) == 0 {
			r.leaves = append(r.leaves, runLeaf{node: n, idx: i})
			continue
		}
		st := runStep{node: n, op: n.Op(), args: make([]G.Value, len(cs)), idx: i}
		if st.op == nil {
			return nil, fmt.Errorf("train: graph node %v has inputs but no op", n)
		}
		for _, c := range cs {
			st.in = append(st.in, pos[c])
		}
		r.steps = append(r.steps, st)
	}
	return r, nil
}

// run executes the graph and returns the outputs' values (the slice is
// reused by the next run; the values are the ops' own buffers).
func (r *graphRunner) run() ([]G.Value, error) {
	for _, l := range r.leaves {
		v := l.node.Value()
		if v == nil {
			return nil, fmt.Errorf("train: graph input %v has no value", l.node)
		}
		r.vals[l.idx] = v
	}
	for i := range r.steps {
		st := &r.steps[i]
		for j, c := range st.in {
			st.args[j] = r.vals[c]
		}
		v, err := st.op.Do(st.args...)
		if err != nil {
			return nil, fmt.Errorf("train: graph node %v: %w", st.node, err)
		}
		r.vals[st.idx] = v
	}
	for i, idx := range r.outIdx {
		r.outs[i] = r.vals[idx]
	}
	return r.outs, nil
}
