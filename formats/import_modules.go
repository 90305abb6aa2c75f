package formats

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// moduleTable answers questions about the nn.Module objects of a
// whole-module pickle.
type moduleTable struct {
	mods    []TorchModule
	index   map[string]int
	scalars map[string]any
	params  map[string]bool // modules that own tensors
}

func newModuleTable(tf *TorchFile) *moduleTable {
	if len(tf.Modules) == 0 {
		return nil
	}
	m := &moduleTable{mods: tf.Modules, index: map[string]int{}, scalars: map[string]any{}, params: map[string]bool{}}
	for i, mod := range tf.Modules {
		if _, dup := m.index[mod.Name]; !dup {
			m.index[mod.Name] = i
		}
	}
	for _, s := range tf.Scalars {
		m.scalars[s.Name] = s.Value
	}
	for _, t := range tf.Tensors {
		if mod, _, ok := cutLastDot(t.Name, "."); ok {
			m.params[mod] = true
		}
	}
	return m
}

func parentModule(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return ""
}

// children returns the direct children of parent, in pickle order.
func (m *moduleTable) children(parent string) []TorchModule {
	var out []TorchModule
	for _, mod := range m.mods {
		if mod.Name == "" || mod.Name == parent {
			continue
		}
		if parentModule(mod.Name) == parent {
			out = append(out, mod)
		}
	}
	return out
}

func (m *moduleTable) isLeaf(name string) bool {
	for _, mod := range m.mods {
		if strings.HasPrefix(mod.Name, name+".") || name == "" && mod.Name != "" {
			return false
		}
	}
	return true
}

// activation returns the activation of a module, with its parameter.
func (m *moduleTable) activation(mod TorchModule) actSpec {
	kind := torchActivationKinds[className(mod.Class)]
	a := actSpec{kind: kind}
	switch kind {
	case model.LeakyReLU:
		a.alpha = float32(m.floatScalar(mod.Name+".negative_slope", 0.01))
	case model.ELU:
		a.alpha = float32(m.floatScalar(mod.Name+".alpha", 1))
	}
	return a
}

func (m *moduleTable) floatScalar(name string, def float64) float64 {
	switch v := m.scalars[name].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	}
	return def
}

// leafKind classifies a leaf module: "linear", "activation", "skip",
// "recurrent", "layer" (has tensors: conv, norm, handled elsewhere) or
// "unknown".
func (m *moduleTable) leafKind(mod TorchModule) string {
	name := className(mod.Class)
	switch {
	case isTorchNN(mod.Class) && name == "Linear":
		return "linear"
	case isTorchNN(mod.Class) && torchActivationKinds[name] != "":
		return "activation"
	case isTorchNN(mod.Class) && torchPassThrough[name]:
		return "skip"
	case isTorchNN(mod.Class) && torchRecurrent[name]:
		return "recurrent"
	case isTorchNN(mod.Class) && torchSoftmax[name]:
		return "softmax"
	case m.params[mod.Name]:
		return "layer"
	case isTorchNN(mod.Class) && torchContainer[name]:
		return "skip" // an empty container
	}
	return "unknown"
}

// checkModules refuses recurrent layers and unknown parameter-free modules
// (activations spikebridge does not know) among the modules under group.
func (m *moduleTable) checkModules(group string) error {
	for _, mod := range m.mods {
		if group != "" && mod.Name != group && !strings.HasPrefix(mod.Name, group+".") {
			continue
		}
		if !m.isLeaf(mod.Name) {
			continue
		}
		switch m.leafKind(mod) {
		case "recurrent":
			return fmt.Errorf("formats: module %q is a recurrent layer (%s): a recurrent network cannot become a feed-forward one", mod.Name, mod.Class)
		case "softmax":
			if p, ok := m.index[parentModule(mod.Name)]; !ok || className(m.mods[p].Class) != "Sequential" {
				return fmt.Errorf("formats: module %q (%s) belongs to a user module whose forward() is not in the file: where it applies cannot be known", mod.Name, mod.Class)
			}
		case "unknown":
			return fmt.Errorf("formats: module %q (%s) is an activation or layer spikebridge does not know (it knows ReLU, Tanh, Sigmoid, LeakyReLU, ELU, Dropout, Identity, Flatten): "+
				"importing without it would give a different network", mod.Name, mod.Class)
		}
	}
	return nil
}

// after returns the activation that follows the Linear module name, when
// the pickle says: in a Sequential, the modules between it and the next
// Linear; in a user module, its activation modules when they are all of one
// kind (the forward order is not in the file). found is false when the
// modules say nothing (the activation is applied in forward()).
func (m *moduleTable) after(name string, last bool) (act actSpec, found bool, how string, err error) {
	parent := parentModule(name)
	pi, ok := m.index[parent]
	if !ok {
		return act, false, "", nil
	}
	kids := m.children(parent)
	if className(m.mods[pi].Class) == "Sequential" {
		// The leaves that run after it, in order, as long as only
		// Sequentials (whose forward order is their modules' order) lie
		// between: nested Sequentials are looked into.
		var leaves []TorchModule
		for _, mod := range m.mods {
			if mod.Name != "" && m.isLeaf(mod.Name) {
				leaves = append(leaves, mod)
			}
		}
		at := slices.IndexFunc(leaves, func(k TorchModule) bool { return k.Name == name })
		var acts []TorchModule
		nextLayer := false
		for _, k := range leaves[at+1:] {
			if !m.sequentialBetween(name, k.Name) {
				break
			}
			kind := m.leafKind(k)
			if kind == "linear" || kind == "layer" {
				nextLayer = true
				break
			}
			if kind == "activation" || kind == "softmax" {
				acts = append(acts, k)
			}
		}
		switch {
		case len(acts) > 1:
			return act, false, "", fmt.Errorf("formats: modules %q and %q: two activations in a row after Linear %q", acts[0].Name, acts[1].Name, name)
		case len(acts) == 1 && m.leafKind(acts[0]) == "softmax":
			return actSpec{kind: softmaxKind}, true, fmt.Sprintf("module %s, %s", acts[0].Name, className(acts[0].Class)), nil
		case len(acts) == 1:
			return m.activation(acts[0]), true, fmt.Sprintf("module %s", acts[0].Name), nil
		case nextLayer:
			// Another Linear (or layer) follows directly: no activation.
			return identityAct, true, "no activation module before the next layer of the Sequential", nil
		}
		return act, false, "", nil // the end of the Sequential: its parent decides
	}
	if last {
		// A user module's activation modules are taken between its layers,
		// not on its output (forward() would have to say).
		return act, false, "", nil
	}
	var acts []TorchModule
	for _, k := range kids {
		if m.isLeaf(k.Name) && m.leafKind(k) == "activation" {
			acts = append(acts, k)
		}
	}
	if len(acts) == 0 {
		return act, false, "", nil
	}
	first := m.activation(acts[0])
	for _, k := range acts[1:] {
		if a := m.activation(k); a != first {
			return act, false, "", fmt.Errorf("formats: module %q holds activations of different kinds (%s is %s, %s is %s) and forward() is not in the file: "+
				"the order cannot be known", parent, acts[0].Name, acts[0].Class, k.Name, k.Class)
		}
	}
	return first, true, fmt.Sprintf("the only activation kind among %q's modules (%s; forward() is not in the file)", parent, acts[0].Name), nil
}

// sequentialBetween reports whether every container from a's and b's
// parents up to their closest common ancestor is a Sequential, so that a's
// modules run before b's in the order the pickle lists them.
func (m *moduleTable) sequentialBetween(a, b string) bool {
	ancestors := func(n string) []string {
		var out []string
		for n != "" {
			n = parentModule(n)
			out = append(out, n)
		}
		return out
	}
	ua, ub := ancestors(a), ancestors(b)
	common := ""
	for _, x := range ua {
		if slices.Contains(ub, x) {
			common = x
			break
		}
	}
	for _, chain := range [][]string{ua, ub} {
		for _, x := range chain {
			i, ok := m.index[x]
			if !ok || className(m.mods[i].Class) != "Sequential" {
				return false
			}
			if x == common {
				break
			}
		}
	}
	return true
}
