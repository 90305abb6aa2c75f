package formats

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// ErrAmbiguousNetwork is returned (wrapped) when the Linear layers of a file
// do not make one network without a choice: a broken chain, several heads,
// sub-networks of unknown roles. The message lists the candidates.
var ErrAmbiguousNetwork = errors.New("the file's Linear layers do not make one network without a choice")

// Sub-network roles, read from module names (see roleOf).
const (
	roleTrunk     = ""
	roleActor     = "actor"
	roleValue     = "value"
	roleAdvantage = "advantage"
	roleTarget    = "target"
)

// roleTokens maps a name token to the role of the sub-network it names.
var roleTokens = map[string]string{
	"pi": roleActor, "policy": roleActor, "actor": roleActor, "action": roleActor, "actions": roleActor,
	"logits": roleActor, "mu": roleActor,
	"v": roleValue, "vf": roleValue, "value": roleValue, "values": roleValue, "critic": roleValue, "val": roleValue,
	"adv": roleAdvantage, "advantage": roleAdvantage, "advantages": roleAdvantage, "a": "",
	"target": roleTarget, "tgt": roleTarget,
}

// hasToken reports whether a module name has tok as one of its tokens.
func hasToken(module, tok string) bool {
	for _, part := range strings.Split(module, ".") {
		for _, t := range strings.Split(part, "_") {
			if strings.TrimRight(strings.ToLower(t), "0123456789") == tok {
				return true
			}
		}
	}
	return false
}

// roleOf returns the role of a Linear layer from its module name: a "target"
// token anywhere marks a target-network copy; otherwise the deepest token
// that names a role wins ("actor_critic.critic.0" is the critic).
func roleOf(module string) string {
	role := roleTrunk
	for _, part := range strings.Split(module, ".") {
		for _, tok := range strings.Split(part, "_") {
			tok = strings.TrimRight(strings.ToLower(tok), "0123456789")
			r, ok := roleTokens[tok]
			if !ok || r == "" {
				continue
			}
			if r == roleTarget {
				return roleTarget
			}
			role = r
		}
	}
	return role
}

func moduleOf(c linearCandidate) string { return strings.TrimSuffix(c.weight.Name, ".weight") }

// softmaxKind marks a Softmax/LogSoftmax module found after a Linear layer
// (accepted on the output only, where it is left out).
const softmaxKind model.Kind = "softmax"

// actSpec is an activation layer (identity: none).
type actSpec struct {
	kind  model.Kind
	alpha float32
}

func (a actSpec) String() string {
	switch a.kind {
	case model.LeakyReLU, model.ELU:
		return fmt.Sprintf("%s(%g)", a.kind, a.alpha)
	}
	return string(a.kind)
}

var identityAct = actSpec{kind: model.Identity}

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

// Module classes by their last name component.
var (
	torchActivationKinds = map[string]model.Kind{"ReLU": model.ReLU, "Tanh": model.Tanh, "Sigmoid": model.Sigmoid,
		"LeakyReLU": model.LeakyReLU, "ELU": model.ELU}
	torchPassThrough = map[string]bool{"Dropout": true, "Dropout1d": true, "Dropout2d": true, "AlphaDropout": true,
		"Identity": true, "Flatten": true}
	torchRecurrent = map[string]bool{"LSTM": true, "GRU": true, "RNN": true, "LSTMCell": true, "GRUCell": true, "RNNCell": true}
	torchContainer = map[string]bool{"Sequential": true, "ModuleList": true, "ModuleDict": true}
	// torchSoftmax are row-wise and monotonic: on a network's output they
	// change its values but not its argmax.
	torchSoftmax = map[string]bool{"Softmax": true, "LogSoftmax": true}
	// recurrentTensor matches the parameters of torch's recurrent layers.
	recurrentTensor = regexp.MustCompile(`(^|\.)(weight|bias)_(ih|hh)(_l\d+(_reverse)?)?$`)
)

func className(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

func isTorchNN(class string) bool { return strings.HasPrefix(class, "torch.nn.") }

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

// chainActs picks the activation after each layer of chain: the arch's, the
// pickled modules', or def between layers (identity after the last).
func chainActs(chain []linearCandidate, arch *archSpec, mods *moduleTable, def actSpec, defWhy string) ([]actSpec, []string, error) {
	acts := make([]actSpec, len(chain))
	var notes []string
	var assumed []string
	for i, c := range chain {
		last := i == len(chain)-1
		switch {
		case arch != nil:
			acts[i] = arch.act
			if last {
				acts[i] = identityAct
			}
			continue
		case mods != nil:
			a, found, how, err := mods.after(moduleOf(c), last)
			if err != nil {
				return nil, nil, err
			}
			if found && a.kind == softmaxKind {
				if !last {
					return nil, nil, fmt.Errorf("formats: %s between Linear layers (after %s): not an element-wise activation", how, moduleOf(c))
				}
				notes = append(notes, fmt.Sprintf("the output's %s is left out: the network outputs its logits; the greedy action (argmax) is the same", how))
				acts[i] = identityAct
				continue
			}
			if found {
				if last && a.kind != model.Identity {
					notes = append(notes, fmt.Sprintf("output activation %s after %s (%s)", a, moduleOf(c), how))
				} else if !last {
					notes = append(notes, fmt.Sprintf("%s after %s (%s)", a, moduleOf(c), how))
				}
				acts[i] = a
				continue
			}
		}
		if last {
			acts[i] = identityAct
			continue
		}
		acts[i] = def
		assumed = append(assumed, moduleOf(c))
	}
	if len(assumed) > 0 {
		notes = append(notes, fmt.Sprintf("%s after %s: %s", def, strings.Join(assumed, ", "), defWhy))
	}
	return acts, notes, nil
}

// crossesSubnetworks reports whether a chain of layers runs from one
// sub-network into another (value into actor, a branch back into the
// trunk): the roles along it may only go from the trunk into one branch.
func crossesSubnetworks(run []linearCandidate) (bool, string) {
	branch := roleTrunk
	var from string
	for _, c := range run {
		r := roleOf(moduleOf(c))
		switch {
		case r == roleTrunk && branch != roleTrunk:
			return true, fmt.Sprintf("%s (%s) feeds %s (trunk)", from, branch, moduleOf(c))
		case r != roleTrunk && branch != roleTrunk && r != branch:
			return true, fmt.Sprintf("%s (%s) feeds %s (%s)", from, branch, moduleOf(c), r)
		}
		if r != roleTrunk {
			branch, from = r, moduleOf(c)
		}
	}
	return false, ""
}

// subnetwork is one way to read the file's layers as a network.
type subnetwork struct {
	what   string // "actor", "value head", "chain", ...
	layers []linearCandidate
}

func (s subnetwork) describe(layout string) string {
	return s.what + " " + describeChains([][]linearCandidate{s.layers}, layout)
}

// foldDueling builds the dueling network as plain Dense layers: the trunk,
// then the value and advantage streams side by side (their first layers
// stacked, deeper ones block-diagonal), and the last layers folded into one
// Linear layer: Q_i = V + A_i - mean_j A_j is linear in the streams' last
// hidden activations, so row i of the folded weight is [w_V, W_A,i -
// mean_j W_A,j] (or their sum when both heads read the same trunk output)
// and its bias b_V + b_A,i - mean_j b_A,j, computed in float64 and rounded
// once. The side-by-side hidden layers are exact (the zero blocks add exact
// zeros); the folded layer differs from PyTorch's three-step float32
// evaluation only by rounding.
func foldDueling(trunk, value, adv []denseStep) ([]denseStep, error) {
	if len(value) != len(adv) {
		return nil, fmt.Errorf("formats: dueling streams of different depths: value %d layers, advantage %d; they cannot be run side by side", len(value), len(adv))
	}
	if v := value[len(value)-1]; v.out != 1 {
		return nil, fmt.Errorf("formats: dueling value head %s has %d outputs, want 1 (V(s))", v.weight, v.out)
	}
	steps := append([]denseStep(nil), trunk...)
	for k := 0; k < len(value)-1; k++ {
		v, a := value[k], adv[k]
		if v.act != a.act {
			return nil, fmt.Errorf("formats: dueling streams use different activations after %s (%s) and %s (%s)", v.weight, v.act, a.weight, a.act)
		}
		s := denseStep{out: v.out + a.out, act: v.act, weight: v.weight + " | " + a.weight}
		if k == 0 {
			// Both read the trunk's output: stack the rows.
			s.in = v.in
			s.w = append(append([]float32(nil), v.w...), a.w...)
		} else {
			s.in = v.in + a.in
			s.w = make([]float32, s.out*s.in)
			for o := 0; o < v.out; o++ {
				copy(s.w[o*s.in:], v.w[o*v.in:(o+1)*v.in])
			}
			for o := 0; o < a.out; o++ {
				copy(s.w[(v.out+o)*s.in+v.in:], a.w[o*a.in:(o+1)*a.in])
			}
		}
		if v.b != nil || a.b != nil {
			s.b = make([]float32, s.out)
			copy(s.b, v.b)
			copy(s.b[v.out:], a.b)
			s.bias = v.bias + " | " + a.bias
		}
		steps = append(steps, s)
	}
	v, a := value[len(value)-1], adv[len(adv)-1]
	n := a.out
	shared := len(value) == 1 // both heads read the same vector
	in := v.in + a.in
	if shared {
		in = v.in
	}
	meanW := make([]float64, a.in)
	for o := 0; o < n; o++ {
		for i := 0; i < a.in; i++ {
			meanW[i] += float64(a.w[o*a.in+i])
		}
	}
	for i := range meanW {
		meanW[i] /= float64(n)
	}
	var meanB float64
	for _, b := range a.b {
		meanB += float64(b)
	}
	meanB /= float64(n)
	s := denseStep{in: in, out: n, w: make([]float32, n*in), b: make([]float32, n), act: identityAct,
		weight: fmt.Sprintf("%s + %s (folded: V + A - mean(A))", v.weight, a.weight)}
	if v.bias != "" || a.bias != "" {
		s.bias = fmt.Sprintf("%s + %s (folded)", v.bias, a.bias)
	}
	for o := 0; o < n; o++ {
		row := s.w[o*in : (o+1)*in]
		for i := 0; i < a.in; i++ {
			aw := float64(a.w[o*a.in+i]) - meanW[i]
			if shared {
				row[i] = float32(float64(v.w[i]) + aw)
			} else {
				row[v.in+i] = float32(aw)
			}
		}
		if !shared {
			copy(row[:v.in], v.w)
		}
		var vb, ab float64
		if v.b != nil {
			vb = float64(v.b[0])
		}
		if a.b != nil {
			ab = float64(a.b[o])
		}
		s.b[o] = float32(vb + ab - meanB)
	}
	if i := slices.IndexFunc(s.b, func(x float32) bool { return math.IsInf(float64(x), 0) }); i >= 0 {
		return nil, fmt.Errorf("formats: dueling fold: bias [%d] overflows float32", i)
	}
	return append(steps, s), nil
}

// planStateDict finds the network in a named state dict (or whole module):
// one Linear chain, a dueling network, or one head of an actor-critic file,
// within one checkpoint group; it refuses what it would have to guess.
func planStateDict(tf *TorchFile, tensors []*Tensor, opts ImportOptions, arch *archSpec, unmapped map[*Tensor]string, def actSpec, defWhy string) (*importPlan, string, error) {
	layout := opts.Layout
	if layout == "" {
		layout = LayoutOutIn
	}
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

	// What cannot be represented is refused (the Linear layers alone can
	// still be imported by naming the sizes).
	var blocking []string
	for _, t := range tensors {
		inGroup := len(t.Path) < 2 || chosen[t.Path[0]]
		if !inGroup {
			continue
		}
		if reason := unmapped[t]; strings.HasPrefix(reason, notYetConvertible) {
			blocking = append(blocking, fmt.Sprintf("%s (%d-d)", t.Name, len(t.Shape)))
		} else if strings.HasSuffix(reason, notALinearTensor) && len(t.Shape) > 0 && !recurrentTensor.MatchString(t.Name) {
			return nil, "", fmt.Errorf("formats: tensor %q (shape %v) belongs to no Linear layer (a LayerNorm, a NoisyLinear, an embedding?): "+
				"a network without it would compute something else; only chains of Linear layers become networks (the sizes import the Linear layers alone)", t.Name, t.Shape)
		}
		if recurrentTensor.MatchString(t.Name) {
			return nil, "", fmt.Errorf("formats: tensor %q is a recurrent layer's (LSTM/GRU/RNN) parameter: a recurrent network cannot become a feed-forward one", t.Name)
		}
	}
	if len(blocking) > 0 {
		chains := splitChains(live, layout)
		return nil, "", fmt.Errorf("formats: not yet convertible: %s; only chains of Linear layers become networks "+
			"(arch %s imports the Linear layers %s alone)", strings.Join(blocking, ", "), importArchString(chainSizesOrPair(chains[0], layout)),
			describeChains(chains[:1], layout))
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
	if len(roleOrder) <= 1 {
		p, err := planChain(live, layout, opts.Head, mods, def, defWhy, unmapped)
		return p, layout, err
	}
	p, err := planBranches(roles, roleOrder, layout, opts.Head, mods, def, defWhy, unmapped)
	return p, layout, err
}

// targetPrefix is the module name up to its component that says "target"
// ("q_net_target.q_net.0" -> "q_net_target.").
func targetPrefix(module string) string {
	parts := strings.Split(module, ".")
	for i, p := range parts {
		if roleOf(p) == roleTarget {
			return strings.Join(parts[:i+1], ".") + "."
		}
	}
	return module
}

// chooseGroups picks the checkpoint groups to import: all of them when
// there is one; else the groups that are not target copies when exactly one
// remains, or when they name different roles (an "actor" and a "critic");
// else the first group that is not a target copy.
func chooseGroups(cands []linearCandidate) map[string]bool {
	groups := groupsOf(cands)
	if len(groups) == 1 {
		return map[string]bool{groups[0][0].group: true}
	}
	var live []string
	roles := map[string]bool{}
	for _, g := range groups {
		name := g[0].group
		if r := roleOf(name); r != roleTarget {
			live = append(live, name)
			roles[r] = true
		}
	}
	if len(live) == 0 {
		return map[string]bool{groups[0][0].group: true}
	}
	if len(live) > 1 && !roles[roleTrunk] && len(roles) > 1 {
		chosen := map[string]bool{}
		for _, name := range live {
			chosen[name] = true
		}
		return chosen
	}
	return map[string]bool{live[0]: true}
}

func markOne(c linearCandidate, unmapped map[*Tensor]string, reason string) {
	unmapped[c.weight] = reason
	if c.bias != nil {
		unmapped[c.bias] = reason
	}
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

// roleName is the role as the report says it.
func roleName(r string) string {
	switch r {
	case roleActor:
		return "actor (policy)"
	case roleValue:
		return "value (critic)"
	case roleAdvantage:
		return "advantage"
	case roleTarget:
		return "target copy"
	}
	return "trunk"
}

// headRole maps a head choice to a role ("" for a module name).
func headRole(head string) string {
	switch strings.ToLower(head) {
	case "actor", "policy", "pi":
		return roleActor
	case "critic", "value", "v", "vf":
		return roleValue
	case "advantage", "adv":
		return roleAdvantage
	}
	return ""
}

// planBranches imports a trunk with heads: dueling (value + advantage,
// folded) or actor-critic (the actor unless the critic is chosen).
func planBranches(roles map[string][]linearCandidate, order []string, layout, head string, mods *moduleTable, def actSpec, defWhy string, unmapped map[*Tensor]string) (*importPlan, error) {
	trunk := roles[roleTrunk]
	var subs []string
	for _, r := range order {
		subs = append(subs, fmt.Sprintf("%s %s", roleName(r), describeChains(splitChains(roles[r], layout), layout)))
	}
	if len(trunk) > 0 {
		subs = append([]string{"trunk " + describeChains(splitChains(trunk, layout), layout)}, subs...)
	}
	listing := strings.Join(subs, "; ")
	if len(trunk) > 0 && len(splitChains(trunk, layout)) > 1 {
		return nil, fmt.Errorf("formats: the trunk's layers do not chain: %s: %w", listing, ErrAmbiguousNetwork)
	}
	trunkOut := -1
	if len(trunk) > 0 {
		_, trunkOut = trunk[len(trunk)-1].inOut(layout)
	}
	for _, r := range order {
		chains := splitChains(roles[r], layout)
		if len(chains) > 1 {
			return nil, fmt.Errorf("formats: the %s sub-network's layers do not chain: %s: %w", roleName(r), listing, ErrAmbiguousNetwork)
		}
		in, _ := roles[r][0].inOut(layout)
		if trunkOut >= 0 && in != trunkOut {
			return nil, fmt.Errorf("formats: the %s sub-network takes %d inputs, the trunk gives %d: %s: %w", roleName(r), in, trunkOut, listing, ErrAmbiguousNetwork)
		}
		if trunkOut < 0 {
			first, _ := roles[order[0]][0].inOut(layout)
			if in != first {
				return nil, fmt.Errorf("formats: the sub-networks take different inputs: %s: %w", listing, ErrAmbiguousNetwork)
			}
		}
	}
	has := func(r string) bool { _, ok := roles[r]; return ok }
	stepsOf := func(chain []linearCandidate) ([]denseStep, []string, error) {
		acts, notes, err := chainActs(chain, nil, mods, def, defWhy)
		if err != nil {
			return nil, nil, err
		}
		steps, err := candidateSteps(chain, layout, acts)
		return steps, notes, err
	}
	want := headRole(head)
	if head != "" && want == "" {
		return nil, fmt.Errorf("formats: head %q: want actor or critic (value) for this file: %s: %w", head, listing, ErrAmbiguousNetwork)
	}
	switch {
	case has(roleValue) && has(roleAdvantage) && !has(roleActor) && want == "":
		// Dueling: trunk, then both streams, folded.
		full := append(append([]linearCandidate(nil), trunk...), roles[roleValue]...)
		fullSteps, notes, err := stepsOf(full)
		if err != nil {
			return nil, err
		}
		// The advantage stream's own activations; its last layer is the head.
		advFull := append(append([]linearCandidate(nil), trunk...), roles[roleAdvantage]...)
		advSteps, advNotes, err := stepsOf(advFull)
		if err != nil {
			return nil, err
		}
		steps, err := foldDueling(fullSteps[:len(trunk)], fullSteps[len(trunk):], advSteps[len(trunk):])
		if err != nil {
			return nil, err
		}
		p := &importPlan{structure: "dueling", steps: steps}
		p.notes = append(p.notes, fmt.Sprintf("dueling network: %s; the value and advantage heads are folded exactly into one Linear layer (Q = V + A - mean(A))", listing))
		p.notes = append(p.notes, notes...)
		for _, n := range advNotes {
			if !slices.Contains(p.notes, n) {
				p.notes = append(p.notes, n)
			}
		}
		return p, nil
	case has(roleActor) && has(roleValue) && !has(roleAdvantage):
		pick, why := roleActor, "an actor-critic file: the actor (policy) is the network that acts; the critic is left out (choose it as the head to import it)"
		if want == roleValue {
			pick, why = roleValue, "an actor-critic file: the critic (value) head, as chosen"
		} else if want != "" && want != roleActor {
			return nil, fmt.Errorf("formats: head %q: this actor-critic file has an actor and a critic: %s: %w", head, listing, ErrAmbiguousNetwork)
		}
		other := roleValue
		if pick == roleValue {
			other = roleActor
		}
		for _, c := range roles[other] {
			markOne(c, unmapped, fmt.Sprintf("the %s head, not imported", roleName(other)))
		}
		chain := append(append([]linearCandidate(nil), trunk...), roles[pick]...)
		steps, notes, err := stepsOf(chain)
		if err != nil {
			return nil, err
		}
		p := &importPlan{structure: "actor-critic", steps: steps}
		p.notes = append(p.notes, fmt.Sprintf("%s: imported %s; sub-networks: %s", why, describeChains([][]linearCandidate{chain}, layout), listing))
		p.notes = append(p.notes, notes...)
		return p, nil
	}
	return nil, fmt.Errorf("formats: sub-networks of roles spikebridge cannot combine into one network: %s: %w", listing, ErrAmbiguousNetwork)
}

// planWithArch imports the chain of the given sizes: one of the file's
// sub-networks (a trunk with one head, a plain chain), else any run of
// consecutive Linear layers of one group that stays inside one sub-network.
func planWithArch(cands []linearCandidate, layout string, arch *archSpec, unmapped map[*Tensor]string) (*importPlan, error) {
	var runs [][]linearCandidate
	for _, group := range groupsOf(cands) {
		roles := map[string][]linearCandidate{}
		for _, c := range group {
			r := roleOf(moduleOf(c))
			roles[r] = append(roles[r], c)
		}
		for _, r := range []string{roleActor, roleValue, roleAdvantage, roleTarget} {
			if layers := roles[r]; len(layers) > 0 {
				runs = append(runs, append(append([]linearCandidate(nil), roles[roleTrunk]...), layers...))
			}
		}
		runs = append(runs, splitChains(group, layout)...)
	}
	for start := 0; start+len(arch.sizes)-1 <= len(cands); start++ {
		runs = append(runs, cands[start:start+len(arch.sizes)-1])
	}
	var crossed []string
	for _, run := range runs {
		sizes, ok := chainSizes(run, layout)
		if !ok || !slices.Equal(sizes, arch.sizes) || !sameCheckpointGroup(run) {
			continue
		}
		if bad, why := crossesSubnetworks(run); bad {
			crossed = append(crossed, why)
			continue
		}
		markUnchosen(cands, run, unmapped, "Linear layer outside the chain matching the arch "+importArchString(arch.sizes))
		acts, _, err := chainActs(run, arch, nil, arch.act, "")
		if err != nil {
			return nil, err
		}
		steps, err := candidateSteps(run, layout, acts)
		if err != nil {
			return nil, err
		}
		return &importPlan{structure: "chain (arch)", steps: steps,
			notes: []string{fmt.Sprintf("the layers of arch %s: %s, %s between them", importArchString(arch.sizes), describeChains([][]linearCandidate{run}, layout), arch.act)}}, nil
	}
	if len(crossed) > 0 {
		return nil, fmt.Errorf("formats: arch %s matches only chains that cross from one sub-network into another (%s); such a network does not exist in the file: %w",
			importArchString(arch.sizes), strings.Join(crossed, "; "), ErrAmbiguousNetwork)
	}
	subs := ""
	for _, group := range groupsOf(cands) {
		byRole := map[string][]linearCandidate{}
		for _, c := range group {
			byRole[roleOf(moduleOf(c))] = append(byRole[roleOf(moduleOf(c))], c)
		}
		if len(byRole) > 1 || byRole[roleTrunk] == nil {
			var parts []string
			for _, r := range []string{roleTrunk, roleActor, roleValue, roleAdvantage, roleTarget} {
				if layers := byRole[r]; layers != nil {
					parts = append(parts, roleName(r)+" "+describeChains(splitChains(layers, layout), layout))
				}
			}
			subs += "; sub-networks: " + strings.Join(parts, "; ") + " (a chain stays inside one of them)"
		}
	}
	return nil, fmt.Errorf("formats: arch %s does not match the tensors: the Linear layers (%s) chain as %s%s",
		importArchString(arch.sizes), layout, describeChains(splitChains(cands, layout), layout), subs)
}

func groupsOf(cands []linearCandidate) [][]linearCandidate {
	var groups [][]linearCandidate
	idx := map[string]int{}
	for _, c := range cands {
		i, ok := idx[c.group]
		if !ok {
			i = len(groups)
			idx[c.group] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], c)
	}
	return groups
}
