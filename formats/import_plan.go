package formats

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// ErrAmbiguousNetwork is returned (wrapped) when the Linear layers of a file
// do not make one network without a choice: a broken chain, several heads,
// sub-networks of unknown roles. The message lists the candidates.
var ErrAmbiguousNetwork = errors.New("the file's Linear layers do not make one network without a choice")

// denseStep is one Dense layer to build, with the activation after it.
type denseStep struct {
	in, out        int
	w, b           []float32 // w (out, in); b nil for no bias
	weight, bias   string    // where they came from, for the report
	act            actSpec
	actFromModules bool
}

// importPlan is what TorchToNetwork builds.
type importPlan struct {
	steps     []denseStep
	structure string
	notes     []string
}

// candidateSteps converts a chain of candidates to steps (float32, (out,
// in)), with acts[i] after layer i.
func candidateSteps(chain []linearCandidate, layout string, acts []actSpec) ([]denseStep, error) {
	steps := make([]denseStep, len(chain))
	for i, c := range chain {
		in, out := c.inOut(layout)
		w, err := finiteTorchValues(c.weight)
		if err != nil {
			return nil, err
		}
		if layout == LayoutInOut {
			w = transposeInOut(w, in, out)
		}
		s := denseStep{in: in, out: out, w: w, weight: c.weight.Name, act: acts[i]}
		if c.bias != nil {
			if s.b, err = finiteTorchValues(c.bias); err != nil {
				return nil, err
			}
			s.bias = c.bias.Name
		}
		steps[i] = s
	}
	return steps, nil
}

// assemble turns steps into a network: Dense, activation, ..., and an
// identity output (or the last step's own activation).
func assemble(steps []denseStep) (*model.Network, []ImportedLayer, error) {
	var layers []model.Layer
	var report []ImportedLayer
	for i, s := range steps {
		name := "fc" + strconv.Itoa(i+1)
		layers = append(layers, model.NewDense(name, s.in, s.out, s.w, s.b))
		report = append(report, ImportedLayer{Layer: name, In: s.in, Out: s.out, Weight: s.weight, Bias: s.bias})
		last := i == len(steps)-1
		switch {
		case last:
			layers = append(layers, model.NewParamActivation("out", s.act.kind, s.out, s.act.alpha))
		case s.act.kind != model.Identity:
			layers = append(layers, model.NewParamActivation(string(s.act.kind)+strconv.Itoa(i+1), s.act.kind, s.out, s.act.alpha))
		}
	}
	net, err := model.New(layers)
	if err != nil {
		return nil, nil, fmt.Errorf("formats: %w", err)
	}
	return net, report, nil
}

// planStateDict finds the network in a named state dict (or whole module):
// one Linear chain, a dueling network, or one head of an actor-critic file,
// within one checkpoint group; it refuses what it would have to guess.
func planStateDict(tf *TorchFile, tensors []*Tensor, opts ImportOptions, arch *archSpec, unmapped map[*Tensor]string, def actSpec, defWhy string) (*importPlan, string, error) {
	layout := opts.Layout
	if layout == "" {
		layout = LayoutOutIn
	}
	cands := linearCandidates(tensors, unmapped)
	if len(cands) == 0 {
		return nil, "", fmt.Errorf("formats: no Linear layer found: no 2-d floating-point tensor named *.weight among %d tensors", len(tensors))
	}
	orderCandidates(cands)
	mods := newModuleTable(tf)
	if arch != nil {
		p, err := planWithArch(cands, layout, arch, unmapped)
		return p, layout, err
	}

	// One checkpoint group (a dict of several networks): the first that is
	// not a target copy, or the actor and critic groups together (their
	// roles then decide, as for sub-networks of one state dict).
	chosen := chooseGroups(cands)
	live := liveCandidates(cands, chosen, unmapped)
	if err := refuseUnrepresentable(tensors, chosen, live, layout, unmapped); err != nil {
		return nil, "", err
	}
	if mods != nil {
		for g := range chosen {
			modGroup := ""
			if g != "" && g != "_modules" {
				modGroup = g
			}
			if err := mods.checkModules(modGroup); err != nil {
				return nil, "", err
			}
		}
	}
	roles, roleOrder := candidateRoles(live)
	if len(roleOrder) <= 1 {
		p, err := planChain(live, layout, opts.Head, mods, def, defWhy, unmapped)
		return p, layout, err
	}
	p, err := planBranches(roles, roleOrder, layout, opts.Head, mods, def, defWhy, unmapped)
	return p, layout, err
}

// linearCandidates returns the 2-d floating-point *.weight tensors with
// their biases, in file order, and marks every other tensor in unmapped.
func linearCandidates(tensors []*Tensor, unmapped map[*Tensor]string) []linearCandidate {
	byName := make(map[string]*Tensor, len(tensors))
	for _, t := range tensors {
		byName[t.Name] = t
	}
	var cands []linearCandidate
	usedBias := map[*Tensor]bool{}
	for _, t := range tensors {
		module, ok := strings.CutSuffix(t.Name, ".weight")
		if !ok || len(t.Shape) != 2 || !isTorchFloat(t.DType) {
			continue
		}
		c := linearCandidate{weight: t}
		if b := byName[module+".bias"]; b != nil && len(b.Shape) == 1 && isTorchFloat(b.DType) {
			c.bias = b
			usedBias[b] = true
		}
		if len(t.Path) > 1 {
			c.group = t.Path[0]
		}
		if dot := strings.LastIndexByte(module, '.'); dot >= 0 {
			c.prefix, c.id = module[:dot+1], module[dot+1:]
		} else {
			c.id = module
		}
		c.index = trailingNumber(c.id)
		cands = append(cands, c)
	}
	for _, t := range tensors {
		if !slices.ContainsFunc(cands, func(c linearCandidate) bool { return c.weight == t }) && !usedBias[t] {
			unmapped[t] = unmappedReason(t, byName)
		}
	}
	return cands
}

// liveCandidates returns the layers of the chosen groups that are not
// target-network copies (or the copies, when nothing else is left), and
// marks the others in unmapped with the prefix that would choose them.
func liveCandidates(cands []linearCandidate, chosen map[string]bool, unmapped map[*Tensor]string) []linearCandidate {
	group := cands[0].group
	for _, c := range cands {
		if chosen[c.group] {
			group = c.group
			break
		}
	}
	var live, targets []linearCandidate
	for _, c := range cands {
		switch {
		case !chosen[c.group]:
			markOne(c, unmapped, fmt.Sprintf("in %q, another network of the file than the imported %q; choose it with the prefix %q", c.group, group, c.group+"."))
		case roleOf(moduleOf(c)) == roleTarget:
			targets = append(targets, c)
		default:
			live = append(live, c)
		}
	}
	if len(live) == 0 { // only target copies (chosen by prefix): import them
		live, targets = targets, nil
	}
	for _, c := range targets {
		markOne(c, unmapped, "a target-network copy, not the acting network; choose it with the prefix "+strconv.Quote(targetPrefix(moduleOf(c))))
	}
	return live
}

// refuseUnrepresentable refuses tensors of the chosen groups that a network
// of Dense layers cannot hold (the Linear layers alone can still be
// imported by naming the sizes).
func refuseUnrepresentable(tensors []*Tensor, chosen map[string]bool, live []linearCandidate, layout string, unmapped map[*Tensor]string) error {
	var blocking []string
	for _, t := range tensors {
		inGroup := len(t.Path) < 2 || chosen[t.Path[0]]
		if !inGroup {
			continue
		}
		if reason := unmapped[t]; strings.HasPrefix(reason, notYetConvertible) {
			blocking = append(blocking, fmt.Sprintf("%s (%d-d)", t.Name, len(t.Shape)))
		} else if strings.HasSuffix(reason, notALinearTensor) && len(t.Shape) > 0 && !recurrentTensor.MatchString(t.Name) {
			return fmt.Errorf("formats: tensor %q (shape %v) belongs to no Linear layer (a LayerNorm, a NoisyLinear, an embedding?): "+
				"a network without it would compute something else; only chains of Linear layers become networks (the sizes import the Linear layers alone)", t.Name, t.Shape)
		}
		if recurrentTensor.MatchString(t.Name) {
			return fmt.Errorf("formats: tensor %q is a recurrent layer's (LSTM/GRU/RNN) parameter: a recurrent network cannot become a feed-forward one", t.Name)
		}
	}
	if len(blocking) > 0 {
		chains := splitChains(live, layout)
		return fmt.Errorf("formats: not yet convertible: %s; only chains of Linear layers become networks "+
			"(arch %s imports the Linear layers %s alone)", strings.Join(blocking, ", "), importArchString(chainSizesOrPair(chains[0], layout)),
			describeChains(chains[:1], layout))
	}
	return nil
}

// candidateRoles groups the layers by sub-network role, in order of first
// appearance (the trunk not counted in the order).
func candidateRoles(live []linearCandidate) (map[string][]linearCandidate, []string) {
	roles := map[string][]linearCandidate{}
	var roleOrder []string
	hasValue := slices.ContainsFunc(live, func(c linearCandidate) bool { return roleOf(moduleOf(c)) == roleValue })
	for _, c := range live {
		r := roleOf(moduleOf(c))
		if r == roleTrunk && hasValue && hasToken(moduleOf(c), "a") {
			r = roleAdvantage // a dueling net's "V" and "A" heads
		}
		if _, seen := roles[r]; !seen && r != roleTrunk {
			roleOrder = append(roleOrder, r)
		}
		roles[r] = append(roles[r], c)
	}
	return roles, roleOrder
}

// planChain imports a file whose layers form one chain (plus exact copies
// of it, such as a second network of the same shape).
func planChain(live []linearCandidate, layout, head string, mods *moduleTable, def actSpec, defWhy string, unmapped map[*Tensor]string) (*importPlan, error) {
	if head != "" {
		var picked []linearCandidate
		for _, c := range live {
			if m := moduleOf(c); m == head || strings.HasPrefix(m, head+".") || strings.HasPrefix(m, head+"_") {
				picked = append(picked, c)
			}
		}
		if len(picked) == 0 {
			return nil, fmt.Errorf("formats: head %q: no Linear layer is named after it; the layers are %s: %w", head,
				describeChains(splitChains(live, layout), layout), ErrAmbiguousNetwork)
		}
		var others []linearCandidate
		for _, c := range live {
			if !slices.ContainsFunc(picked, func(k linearCandidate) bool { return k.weight == c.weight }) {
				others = append(others, c)
			}
		}
		// The head's trunk: the layers of another chain up to the one whose
		// outputs the head reads.
		headIn, _ := picked[0].inOut(layout)
		var trunk []linearCandidate
		if len(others) > 0 {
		search:
			for _, tc := range splitChains(others, layout) {
				for k := range tc {
					if _, out := tc[k].inOut(layout); out == headIn && tc[k].group == picked[0].group {
						trunk = tc[:k+1]
						break search
					}
				}
			}
		}
		full := append(append([]linearCandidate(nil), trunk...), picked...)
		for _, c := range others {
			if !slices.ContainsFunc(full, func(k linearCandidate) bool { return k.weight == c.weight }) {
				markOne(c, unmapped, fmt.Sprintf("not on the way to the chosen head %q", head))
			}
		}
		if len(splitChains(full, layout)) != 1 {
			return nil, fmt.Errorf("formats: head %q: its layers %s do not chain: %w", head, describeChains(splitChains(full, layout), layout), ErrAmbiguousNetwork)
		}
		live = full
	}
	chains := splitChains(live, layout)
	chosen := chains[0]
	p := &importPlan{structure: "chain"}
	for _, other := range chains[1:] {
		if isCopyOf(other, chosen, layout) {
			for _, c := range other {
				markOne(c, unmapped, fmt.Sprintf("another copy of the imported %s (same layer names and sizes)", describeChains([][]linearCandidate{chosen}, layout)))
			}
			continue
		}
		return nil, chainsError(chains, layout)
	}
	acts, notes, err := chainActs(chosen, nil, mods, def, defWhy)
	if err != nil {
		return nil, err
	}
	p.notes = append(p.notes, notes...)
	if p.steps, err = candidateSteps(chosen, layout, acts); err != nil {
		return nil, err
	}
	return p, nil
}

// isCopyOf: the same local layer names and the same sizes.
func isCopyOf(a, b []linearCandidate, layout string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		ai, ao := a[i].inOut(layout)
		bi, bo := b[i].inOut(layout)
		if a[i].id != b[i].id || ai != bi || ao != bo || (a[i].bias == nil) != (b[i].bias == nil) {
			return false
		}
	}
	return true
}

// chainsError explains why several chains are not one network: where a
// chain breaks, or which heads follow a shared layer.
func chainsError(chains [][]linearCandidate, layout string) error {
	for i, c := range chains {
		for k := range c {
			_, out := c[k].inOut(layout)
			var heads []string
			if k+1 < len(c) {
				heads = append(heads, moduleOf(c[k+1]))
			}
			for j, d := range chains {
				if in, _ := d[0].inOut(layout); i != j && in == out && d[0].group == c[0].group {
					heads = append(heads, moduleOf(d[0]))
				}
			}
			if len(heads) > 1 || k+1 == len(c) && len(heads) == 1 {
				return fmt.Errorf("formats: several heads read the %d outputs of %s: %s (a network with several heads, or a trunk written without its head); "+
					"the Linear layers form %s; choose a head by name or the sizes to import: %w",
					out, moduleOf(c[k]), strings.Join(heads, ", "), describeChains(chains, layout), ErrAmbiguousNetwork)
			}
		}
	}
	a, b := chains[0], chains[1]
	_, out := a[len(a)-1].inOut(layout)
	in, _ := b[0].inOut(layout)
	return fmt.Errorf("formats: the Linear layers do not connect: %s gives %d outputs, %s takes %d inputs; they form %s; "+
		"choose the layers by prefix or sizes: %w", moduleOf(a[len(a)-1]), out, moduleOf(b[0]), in, describeChains(chains, layout), ErrAmbiguousNetwork)
}
