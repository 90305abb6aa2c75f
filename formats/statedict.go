package formats

import (
	"errors"
	"fmt"
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
			unmapped[&tf.Tensors[i]] = fmt.Sprintf("name outside the prefix %q", opts.Prefix)
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
		plan, layout, err = planWeightList(tensors, opts, arch, unmapped, def)
		if err != nil {
			return nil, err
		}
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
