package formats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// Weight layouts of ImportOptions.Layout.
const (
	LayoutOutIn = "out-in" // torch.nn.Linear: weight (out, in)
	LayoutInOut = "in-out" // DSQN and numpy code: weight (in, out), y = x W
)

// ImportOptions steer TorchToNetwork.
type ImportOptions struct {
	// Arch, e.g. "4-64-64-2" or "4-64-64-2:relu", fixes the layer sizes and
	// the hidden activation (relu or identity) instead of inferring them; it
	// is checked against the tensors.
	Arch string
	// Layout is LayoutOutIn, LayoutInOut or "" (auto: out-in for named
	// state dicts, inferred from the shapes for DSQN weight lists).
	Layout string
	// Prefix, when set, keeps only tensors whose Name starts with it (e.g.
	// "target_net." to import a checkpoint's second network).
	Prefix string
	// Semantics is SemanticsAuto, SemanticsANN or SemanticsDSQN. Auto refuses
	// (ErrProbablyDSQN) a bias-free weight list whose input width is
	// ObservationSize+1: that is DSQN's layout, a spiking network whose last
	// input is a constant 1, not an ANN.
	Semantics       string
	ObservationSize int
	// Head chooses the head of a file with several: "actor" (or policy),
	// "critic" (or value), or the module name of the head's layers.
	Head string
	// Activation is the hidden activation where the file does not store
	// one (a state dict): "" means ReLU. ActivationWhy says where it came
	// from (for the report).
	Activation      model.Kind
	ActivationAlpha float32
	ActivationWhy   string
	// Actions, when > 0, is the number of actions the network must output
	// (a head of another width is refused unless chosen by Head).
	Actions int
}

// weightListWhy is the note on a weight list's assumed activation.
const weightListWhy = "assumed: a weight list does not store activations"

// Semantics of ImportOptions.
const (
	SemanticsAuto = ""
	SemanticsANN  = "ann"
	SemanticsDSQN = "dsqn"
)

// ErrProbablyDSQN is returned (wrapped) when the tensors look like a DSQN
// spiking Q-network but no semantics was chosen.
var ErrProbablyDSQN = errors.New("probably a DSQN spiking Q-network, not an ANN")

// TorchImport is the result of TorchToNetwork.
type TorchImport struct {
	Network *model.Network
	// Layout is the weight layout that was used.
	Layout string
	// Layers maps each Dense layer of Network to the tensors it came from.
	Layers []ImportedLayer
	// Unmapped lists every tensor of the file that is not in Network, with
	// the reason.
	Unmapped []UnmappedTensor
	// Structure is what was recognised: "chain", "weight list", "dueling",
	// "actor-critic" or "chain (arch)"; Notes say what was chosen and why.
	Structure string
	Notes     []string
	// ActivationAssumed is set when a hidden activation was not stored in
	// the file and the default (or Activation) was used.
	ActivationAssumed bool
}

// ImportedLayer says where a Dense layer's parameters came from.
type ImportedLayer struct {
	Layer   string // name in the model.Network (fc1, fc2, ...)
	In, Out int
	Weight  string // tensor name
	Bias    string // tensor name, or "" for no bias
}

// UnmappedTensor is a tensor TorchToNetwork left out, and why.
type UnmappedTensor struct {
	Name   string
	Reason string
}

func (u UnmappedTensor) String() string { return u.Name + ": " + u.Reason }

// linearCandidate is a 2-d weight with its optional bias.
type linearCandidate struct {
	weight, bias *Tensor
	group        string // the top of the path (checkpoint key), "" for flat dicts
	prefix, id   string // module name split at its last dot: "model." + "fc1"
	index        int    // trailing number of id, or -1
}

// shape returns (in, out) of the candidate under a layout.
func (c linearCandidate) inOut(layout string) (int, int) {
	if layout == LayoutInOut {
		return c.weight.Shape[0], c.weight.Shape[1]
	}
	return c.weight.Shape[1], c.weight.Shape[0]
}

// TorchToNetwork maps the tensors of a .pt file onto a Dense/ReLU network:
// a chain of Linear layers (fcN, lN, layers.N, Sequential indices, under
// any common prefix such as "model." or "q_net."), ordered by numeric index
// when every name has one, else in file order, with ReLU between layers and
// identity at the end; or a DSQN list ([W...], [b or None...]) / [W...].
// Tensors it cannot place (conv, batch-norm, scalars, optimizer state) are
// listed in Unmapped. Non-finite weights are an error naming the tensor.
func TorchToNetwork(tf *TorchFile, opts ImportOptions) (*TorchImport, error) {
	switch opts.Layout {
	case "", LayoutOutIn, LayoutInOut:
	default:
		return nil, fmt.Errorf("formats: unknown layout %q, want %s or %s", opts.Layout, LayoutOutIn, LayoutInOut)
	}
	arch, err := parseImportArch(opts.Arch)
	if err != nil {
		return nil, err
	}
	var tensors, all []*Tensor
	unmapped := map[*Tensor]string{}
	for i := range tf.Tensors {
		all = append(all, &tf.Tensors[i])
		if strings.HasPrefix(tf.Tensors[i].Name, opts.Prefix) {
			tensors = append(tensors, &tf.Tensors[i])
		} else {
			unmapped[&tf.Tensors[i]] = fmt.Sprintf("outside --prefix %q", opts.Prefix)
		}
	}
	if len(tensors) == 0 {
		if opts.Prefix != "" {
			return nil, fmt.Errorf("formats: no tensor name starts with prefix %q", opts.Prefix)
		}
		return nil, errors.New("formats: the file holds no tensors")
	}
	def := actSpec{kind: model.ReLU}
	defWhy := "assumed: a state_dict does not store activations (ReLU, as in most DQN code)"
	if opts.Activation != "" {
		def = actSpec{kind: opts.Activation, alpha: opts.ActivationAlpha}
		defWhy = opts.ActivationWhy
	}
	var plan *importPlan
	var layout string
	if list, ok := parameterList(tensors); ok && !isWeightList(tensors) {
		tensors = list // an nn.ParameterList of weights (a DSQN module's state_dict)
	}
	if isWeightList(tensors) {
		var layers []linearCandidate
		layers, layout, err = weightListLayers(tensors, opts.Layout, arch, unmapped)
		if err == nil && opts.Semantics == SemanticsAuto && opts.ObservationSize > 0 {
			err = refuseDSQNLike(layers, layout, opts.ObservationSize)
		}
		if err != nil {
			return nil, err
		}
		if sizes, _ := chainSizes(layers, layout); arch != nil && !slices.Equal(sizes, arch.sizes) {
			return nil, fmt.Errorf("formats: arch %s does not match the tensors, which chain as %s", importArchString(arch.sizes), importArchString(sizes))
		}
		acts, notes, err := chainActs(layers, arch, nil, def, weightListWhy)
		if err != nil {
			return nil, err
		}
		steps, err := candidateSteps(layers, layout, acts)
		if err != nil {
			return nil, err
		}
		plan = &importPlan{structure: "weight list", steps: steps, notes: notes}
	} else {
		plan, layout, err = planStateDict(tf, tensors, opts, arch, unmapped, def, defWhy)
		if err != nil {
			return nil, err
		}
	}
	net, report, err := assemble(plan.steps)
	if err != nil {
		return nil, err
	}
	if opts.Actions > 0 && net.OutputSize() != opts.Actions && headRole(opts.Head) != roleValue && arch == nil {
		return nil, fmt.Errorf("formats: the network found (%s, %s) has %d outputs, but the environment has %d actions; "+
			"the file's layers: %s: %w", net, plan.structure, net.OutputSize(), opts.Actions, strings.Join(report2names(report), ", "), ErrAmbiguousNetwork)
	}
	imp := &TorchImport{Network: net, Layout: layout, Layers: report, Structure: plan.structure, Notes: plan.notes}
	for _, n := range plan.notes {
		imp.ActivationAssumed = imp.ActivationAssumed || opts.Activation == "" && (strings.HasSuffix(n, defWhy) || strings.HasSuffix(n, weightListWhy))
	}
	for _, t := range all {
		if reason, ok := unmapped[t]; ok {
			imp.Unmapped = append(imp.Unmapped, UnmappedTensor{Name: t.Name, Reason: reason})
		}
	}
	return imp, nil
}

func report2names(layers []ImportedLayer) []string {
	var out []string
	for _, l := range layers {
		out = append(out, fmt.Sprintf("%s (%d-%d)", l.Weight, l.In, l.Out))
	}
	return out
}

// archSpec is a parsed --arch.
type archSpec struct {
	sizes []int
	act   actSpec
}

// ParseActivation reads an activation name as the import options take it:
// relu, identity (linear), tanh, sigmoid, leaky_relu[=slope] (default 0.01),
// elu[=alpha] (default 1).
func ParseActivation(s string) (model.Kind, float32, error) {
	a, err := parseAct(s)
	return a.kind, a.alpha, err
}

func parseAct(act string) (actSpec, error) {
	name, param, hasParam := strings.Cut(act, "=")
	a := actSpec{kind: model.ReLU}
	switch strings.ToLower(name) {
	case "", "relu":
	case "identity", "linear":
		a.kind = model.Identity
	case "tanh":
		a.kind = model.Tanh
	case "sigmoid":
		a.kind = model.Sigmoid
	case "leaky_relu", "leakyrelu":
		a = actSpec{kind: model.LeakyReLU, alpha: 0.01}
	case "elu":
		a = actSpec{kind: model.ELU, alpha: 1}
	default:
		return a, fmt.Errorf("unknown activation %q (want relu, tanh, sigmoid, leaky_relu[=slope], elu[=alpha] or identity)", act)
	}
	if hasParam {
		v, err := strconv.ParseFloat(param, 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || (a.kind != model.LeakyReLU && a.kind != model.ELU) {
			return a, fmt.Errorf("activation parameter %q: want leaky_relu=SLOPE or elu=ALPHA with a finite number", param)
		}
		a.alpha = float32(v)
	}
	return a, nil
}

func parseImportArch(s string) (*archSpec, error) {
	if s == "" {
		return nil, nil
	}
	sizesPart, act, _ := strings.Cut(s, ":")
	a, err := parseAct(act)
	if err != nil {
		return nil, fmt.Errorf("formats: arch %q: %w", s, err)
	}
	spec := &archSpec{act: a}
	for _, f := range strings.Split(sizesPart, "-") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("formats: arch %q: size %q is not a positive integer (want e.g. 4-64-64-2:relu)", s, f)
		}
		spec.sizes = append(spec.sizes, n)
	}
	if len(spec.sizes) < 2 {
		return nil, fmt.Errorf("formats: arch %q: want at least two sizes (e.g. 4-64-64-2)", s)
	}
	return spec, nil
}

func importArchString(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "-")
}

// isWeightList reports whether the tensors come from a bare list of weights
// or a (weights, biases) pair of lists, as the DSQN code saves them.
func isWeightList(tensors []*Tensor) bool {
	for _, t := range tensors {
		for _, p := range t.Path {
			if _, err := strconv.Atoi(p); err != nil {
				return false
			}
		}
		switch {
		case len(t.Path) == 1 && len(t.Shape) == 2:
		case len(t.Path) == 2 && t.Path[0] == "0" && len(t.Shape) == 2:
		case len(t.Path) == 2 && t.Path[0] == "1" && len(t.Shape) == 1:
		default:
			return false
		}
	}
	return true
}

// parameterList recognises the state_dict of an nn.ParameterList of 2-d
// weights ("weights.0", "weights.1", ...; one prefix, indices 0..n-1 in
// order) and returns the tensors as a weight list (Path = [index]).
func parameterList(tensors []*Tensor) ([]*Tensor, bool) {
	if len(tensors) < 2 {
		return nil, false
	}
	var out []*Tensor
	prefix := ""
	for i, t := range tensors {
		p, idx, found := cutLastDot(t.Name, ".")
		if !found || idx != strconv.Itoa(i) || len(t.Shape) != 2 || !isTorchFloat(t.DType) || (i > 0 && p != prefix) {
			return nil, false
		}
		prefix = p
		c := *t
		c.Path = []string{idx}
		out = append(out, &c)
	}
	return out, true
}

func weightListLayers(tensors []*Tensor, layout string, arch *archSpec, unmapped map[*Tensor]string) ([]linearCandidate, string, error) {
	var layers []linearCandidate
	biases := map[string]*Tensor{}
	for _, t := range tensors {
		if len(t.Path) == 2 && t.Path[0] == "1" {
			biases[t.Path[1]] = t
		}
	}
	for _, t := range tensors {
		if len(t.Shape) == 2 {
			c := linearCandidate{weight: t, id: t.Path[len(t.Path)-1]}
			if len(t.Path) == 2 {
				c.bias = biases[c.id]
				delete(biases, c.id)
			}
			layers = append(layers, c)
		}
	}
	for _, b := range biases {
		unmapped[b] = "bias without a weight of the same index"
	}
	if layout == "" {
		fits := func(l string) bool {
			sizes, ok := chainSizes(layers, l)
			return ok && (arch == nil || slices.Equal(sizes, arch.sizes))
		}
		inOut, outIn := fits(LayoutInOut), fits(LayoutOutIn)
		switch {
		case inOut && !outIn:
			layout = LayoutInOut
		case outIn && !inOut:
			layout = LayoutOutIn
		case inOut && outIn:
			return nil, "", fmt.Errorf("formats: weight list %s: both (in, out) and (out, in) layouts fit the shapes; choose one with --layout",
				weightShapeList(layers))
		default:
			return nil, "", fmt.Errorf("formats: weight list %s: the shapes do not chain as (in, out) nor as (out, in) weights%s",
				weightShapeList(layers), archHint(arch))
		}
	}
	if _, ok := chainSizes(layers, layout); !ok {
		return nil, "", fmt.Errorf("formats: weight list %s: the shapes do not chain as %s weights", weightShapeList(layers), layout)
	}
	return layers, layout, nil
}

// refuseDSQNLike returns ErrProbablyDSQN for a bias-free weight list whose
// first layer takes one input more than the environment's observation.
func refuseDSQNLike(layers []linearCandidate, layout string, obs int) error {
	for _, l := range layers {
		if l.bias != nil {
			return nil
		}
	}
	sizes, _ := chainSizes(layers, layout)
	if len(sizes) == 0 || sizes[0] != obs+1 {
		return nil
	}
	return fmt.Errorf("formats: weight list %s (%s, %s weights) has no biases and %d inputs, one more than the %d observations: %w "+
		"(the DSQN code appends a constant 1 to the observation instead of biases and runs IF neurons); "+
		"import it with DSQN semantics, or as an ANN if it is one",
		weightShapeList(layers), importArchString(sizes), layout, sizes[0], obs, ErrProbablyDSQN)
}

func archHint(arch *archSpec) string {
	if arch == nil {
		return ""
	}
	return " of arch " + importArchString(arch.sizes)
}

func weightShapeList(layers []linearCandidate) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = fmt.Sprintf("%s %v", l.weight.Name, l.weight.Shape)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// chainSizes returns the sizes along layers if each output feeds the next
// input and each bias has the output's length.
func chainSizes(layers []linearCandidate, layout string) ([]int, bool) {
	if len(layers) == 0 {
		return nil, false
	}
	var sizes []int
	for i, l := range layers {
		in, out := l.inOut(layout)
		if i == 0 {
			sizes = append(sizes, in)
		} else if sizes[len(sizes)-1] != in {
			return nil, false
		}
		if l.bias != nil && l.bias.Shape[0] != out {
			return nil, false
		}
		sizes = append(sizes, out)
	}
	return sizes, true
}

func sameCheckpointGroup(run []linearCandidate) bool {
	for _, c := range run {
		if c.group != run[0].group {
			return false
		}
	}
	return true
}

func markUnchosen(all, chosen []linearCandidate, unmapped map[*Tensor]string, reason string) {
	for _, c := range all {
		if slices.ContainsFunc(chosen, func(k linearCandidate) bool { return k.weight == c.weight }) {
			continue
		}
		unmapped[c.weight] = reason
		if c.bias != nil {
			unmapped[c.bias] = reason
		}
	}
}

// orderCandidates sorts each run of layers that share group and prefix by
// their trailing numbers, when every layer of the run has a distinct one
// (Sequential indices, fc1..fc10); other runs keep the file's order.
func orderCandidates(cands []linearCandidate) {
	for start := 0; start < len(cands); {
		end := start + 1
		for end < len(cands) && cands[end].group == cands[start].group && cands[end].prefix == cands[start].prefix {
			end++
		}
		run := cands[start:end]
		numbered := true
		seen := map[int]bool{}
		for _, c := range run {
			numbered = numbered && c.index >= 0 && !seen[c.index]
			seen[c.index] = true
		}
		if numbered {
			slices.SortStableFunc(run, func(a, b linearCandidate) int { return a.index - b.index })
		}
		start = end
	}
}

// splitChains cuts the ordered layers into chains: a new chain starts where
// the group changes, where the sizes do not connect, or where a layer has the
// same local name and input width as the chain's first (a second copy such
// as a target net); "features.0, features.2, head.0" is one chain.
func splitChains(cands []linearCandidate, layout string) [][]linearCandidate {
	var chains [][]linearCandidate
	for _, c := range cands {
		if n := len(chains); n > 0 {
			chain := chains[n-1]
			last := chain[len(chain)-1]
			_, lastOut := last.inOut(layout)
			in, out := c.inOut(layout)
			// A layer named like the chain's first that reads the same width
			// starts a copy (a second network of the same shape).
			firstIn, _ := chain[0].inOut(layout)
			copyStart := c.id == chain[0].id && in == firstIn
			connects := c.group == last.group && in == lastOut && !copyStart &&
				(c.bias == nil || c.bias.Shape[0] == out)
			if connects {
				chains[n-1] = append(chain, c)
				continue
			}
		}
		chains = append(chains, []linearCandidate{c})
	}
	return chains
}

func describeChains(chains [][]linearCandidate, layout string) string {
	parts := make([]string, len(chains))
	for i, chain := range chains {
		var names []string
		for _, c := range chain {
			names = append(names, strings.TrimSuffix(c.weight.Name, ".weight"))
		}
		parts[i] = fmt.Sprintf("%s (%s)", importArchString(chainSizesOrPair(chain, layout)), strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// chainSizesOrPair is chainSizes, or the first layer's (in, out) when the
// chain does not connect.
func chainSizesOrPair(chain []linearCandidate, layout string) []int {
	if sizes, ok := chainSizes(chain, layout); ok {
		return sizes
	}
	in, out := chain[0].inOut(layout)
	return []int{in, out}
}

func trailingNumber(id string) int {
	i := len(id)
	for i > 0 && id[i-1] >= '0' && id[i-1] <= '9' {
		i--
	}
	if i == len(id) || len(id)-i > 9 {
		return -1
	}
	n, _ := strconv.Atoi(id[i:])
	return n
}

func isTorchFloat(dt string) bool {
	switch dt {
	case "float32", "float64", "float16", "bfloat16":
		return true
	}
	return false
}

// notYetConvertible starts the reasons of tensors that belong to layers the
// model package cannot hold yet (convolution, batch norm).
const notYetConvertible = "not yet convertible: "

// unmappedReason says why a tensor that is not a Linear weight or bias was
// left out.
func unmappedReason(t *Tensor, byName map[string]*Tensor) string {
	module, field, _ := cutLastDot(t.Name, ".")
	switch {
	case field == "exp_avg" || field == "exp_avg_sq" || field == "momentum_buffer" || strings.HasPrefix(t.Name, "optimizer."):
		return "optimizer state"
	case len(t.Shape) > 2 && field == "weight":
		return fmt.Sprintf(notYetConvertible+"%d-d weight (convolution?)", len(t.Shape))
	case field == "bias" && byName[module+".weight"] != nil && len(byName[module+".weight"].Shape) > 2:
		return fmt.Sprintf(notYetConvertible+"bias of a %d-d weight (convolution?)", len(byName[module+".weight"].Shape))
	case field == "running_mean" || field == "running_var" || field == "num_batches_tracked" ||
		(field == "weight" || field == "bias") && byName[module+".running_mean"] != nil:
		return notYetConvertible + "batch-norm parameter or statistic"
	case len(t.Shape) == 0:
		return fmt.Sprintf("0-d %s tensor (scalar parameter): no place in a Dense/ReLU network", t.DType)
	case !isTorchFloat(t.DType):
		return fmt.Sprintf("%s tensor: not a weight", t.DType)
	}
	return fmt.Sprintf("%d-d tensor"+notALinearTensor, len(t.Shape))
}

// notALinearTensor ends the reason of a float tensor that is no Linear
// layer's and nothing else spikebridge knows.
const notALinearTensor = " that is not a Linear weight or bias"

func cutLastDot(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// finiteTorchValues converts a tensor's values, refusing NaN and Inf (and
// float64 values beyond float32's range).
func finiteTorchValues(t *Tensor) ([]float32, error) {
	out := t.Float32()
	for i, v := range out {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("formats: tensor %q: element %d (of shape %v) is %v; a network needs finite weights",
				t.Name, i, t.Shape, t.Values[i])
		}
	}
	return out, nil
}

// transposeInOut turns an (in, out) row-major matrix into (out, in).
func transposeInOut(w []float32, in, out int) []float32 {
	t := make([]float32, len(w))
	for i := range in {
		for o := range out {
			t[o*in+i] = w[i*out+o]
		}
	}
	return t
}
