package workflow

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
	"github.com/spikebridge/spikebridge/train"
)

// MaxDSQNTimesteps bounds the T of a DSQN import (a decision costs T steps
// of every layer).
const MaxDSQNTimesteps = 100_000

// ImportPyTorchOptions says which torch.save file (or Stable-Baselines3
// zip) to import, how to read it, and where the model file goes.
type ImportPyTorchOptions struct {
	Input, Output string
	// Arch ("4-64-64-2:relu"), Layout (out-in or in-out), Prefix, Head and
	// Activation choose what the file does not say; "" infers them.
	Arch, Layout, Prefix, Head, Activation string
	// Semantics is "" (an ANN unless the file looks like DSQN's layout),
	// "ann" or "dsqn"; Timesteps and BiasInput are DSQN's T and whether the
	// last input is its constant 1 ("auto": when the file has no biases).
	Semantics    string
	Timesteps    int
	BiasInput    string
	Observations int // the environment's observation width (0: no DSQN check)
	Actions      int // the outputs the network must have (0: not checked unless the file says)
}

// DefaultImportPyTorchOptions are import pytorch's defaults.
func DefaultImportPyTorchOptions() ImportPyTorchOptions {
	return ImportPyTorchOptions{Output: "model.safetensors", Timesteps: 20, BiasInput: "auto", Observations: 4}
}

// ImportResult is what ImportPyTorch read and wrote (import pytorch --json).
type ImportResult struct {
	Input    string                 `json:"input"`
	Output   string                 `json:"output"`
	Format   string                 `json:"format"`
	Tensors  int                    `json:"tensors"`
	Arch     string                 `json:"arch"`
	Layout   string                 `json:"layout"`
	Layers   []ImportedLayer        `json:"layers"`
	Unmapped []ImportUnmappedTensor `json:"unmapped"`
	// Kind is "ann" or "snn"; the DSQN fields are set for Semantics dsqn
	// (FileArch: the sizes in the file, before the constant-1 input folds
	// into a bias; SimulatedSteps: snn's steps for DSQN's Timesteps).
	Kind string `json:"kind"`
	// Structure is what the file held ("chain", "dueling", "actor-critic",
	// "weight list", "chain (arch)"), Notes what was chosen and why. Notes
	// and BiasInputReason name options in braces ("{BiasInput} yes"):
	// OptionText writes them out.
	Structure string     `json:"structure,omitempty"`
	Notes     []string   `json:"notes,omitempty"`
	SB3       *ImportSB3 `json:"sb3,omitempty"`
	// ActivationAssumed: the hidden activation is not in the file (ReLU
	// was used).
	ActivationAssumed bool   `json:"activation_assumed"`
	Semantics         string `json:"semantics,omitempty"`
	FileArch          string `json:"file_arch,omitempty"`
	Timesteps         int    `json:"timesteps,omitempty"`
	SimulatedSteps    int    `json:"simulated_steps,omitempty"`
	BiasInput         *bool  `json:"bias_input,omitempty"`
	BiasInputReason   string `json:"bias_input_reason,omitempty"`
	// FileInputs is the file's input width (DSQN: the observations and
	// perhaps the constant 1).
	FileInputs int `json:"-"`
}

// ImportSB3 is what a Stable-Baselines3 zip's data member said.
type ImportSB3 struct {
	Policy        string `json:"policy"`
	Algorithm     string `json:"algorithm"`
	Activation    string `json:"activation"`
	ActivationWhy string `json:"activation_why"`
	Actions       int    `json:"actions"`
	Observations  int    `json:"observations"`
}

// ImportedLayer is one layer of the model file and the tensors it came from.
type ImportedLayer struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	In     int    `json:"in"`
	Out    int    `json:"out"`
	Weight string `json:"weight,omitempty"`
	Bias   string `json:"bias,omitempty"`
}

// ImportUnmappedTensor is a tensor of the file that no layer took, and why.
type ImportUnmappedTensor struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// ImportPyTorch reads opts.Input without Python and writes it as a model
// file: an ANN, or with Semantics dsqn a spiking network.
func ImportPyTorch(opts ImportPyTorchOptions) (ImportResult, error) {
	if err := checkImportOptions(opts); err != nil {
		return ImportResult{}, err
	}
	tf, sb3, err := formats.LoadTorchOrSB3(opts.Input)
	if err != nil {
		return ImportResult{}, err
	}
	iopts := formats.ImportOptions{Arch: opts.Arch, Layout: opts.Layout, Prefix: opts.Prefix,
		Semantics: opts.Semantics, ObservationSize: opts.Observations, Head: opts.Head, Actions: opts.Actions}
	if sb3 != nil {
		sb3.ApplyTo(&iopts)
	}
	if opts.Activation != "" {
		kind, alpha, err := formats.ParseActivation(opts.Activation)
		if err != nil {
			return ImportResult{}, invalidf("{Activation}: %v", err)
		}
		iopts.Activation, iopts.ActivationAlpha, iopts.ActivationWhy = kind, alpha, "as given with {Activation}"
	}
	imp, err := formats.TorchToNetwork(tf, iopts)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import pytorch %s: %w", opts.Input, err)
	}
	if opts.Semantics == formats.SemanticsDSQN {
		return importDSQN(opts, tf, imp)
	}
	net := imp.Network
	if err := formats.SaveModel(opts.Output, net, importMeta(opts, imp, sb3)); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Input: opts.Input, Output: opts.Output, Format: tf.Format, Tensors: len(tf.Tensors),
		Arch: net.String(), Layout: imp.Layout, Kind: formats.ModelKindANN, Structure: imp.Structure, Notes: imp.Notes,
		ActivationAssumed: imp.ActivationAssumed, Unmapped: unmappedTensors(imp), FileInputs: net.InputSize()}
	if res.Notes == nil {
		res.Notes = []string{}
	}
	if sb3 != nil {
		res.SB3 = &ImportSB3{Policy: sb3.PolicyModule, Algorithm: sb3.Algorithm, Activation: string(sb3.Activation),
			ActivationWhy: sb3.ActivationWhy, Actions: sb3.Actions, Observations: sb3.Observations}
	}
	from := make(map[string]formats.ImportedLayer, len(imp.Layers))
	for _, l := range imp.Layers {
		from[l.Layer] = l
	}
	res.Layers = []ImportedLayer{}
	for _, l := range net.Layers() {
		src := from[l.Name]
		res.Layers = append(res.Layers, ImportedLayer{Name: l.Name, Kind: string(l.Kind), In: l.In, Out: l.Out, Weight: src.Weight, Bias: src.Bias})
	}
	return res, nil
}

func checkImportOptions(opts ImportPyTorchOptions) error {
	switch opts.Layout {
	case "", formats.LayoutOutIn, formats.LayoutInOut:
	default:
		return invalidf("{Layout} %q: want %s or %s", opts.Layout, formats.LayoutOutIn, formats.LayoutInOut)
	}
	switch opts.Semantics {
	case formats.SemanticsAuto, formats.SemanticsANN, formats.SemanticsDSQN:
	default:
		return invalidf("{Semantics} %q: want %s or %s", opts.Semantics, formats.SemanticsANN, formats.SemanticsDSQN)
	}
	switch opts.BiasInput {
	case "", "auto", "yes", "no":
	default:
		return invalidf("{BiasInput} %q: want auto, yes or no", opts.BiasInput)
	}
	switch {
	case opts.Semantics == formats.SemanticsDSQN && (opts.Timesteps < 3 || opts.Timesteps > MaxDSQNTimesteps):
		return invalidf("{Timesteps} %d: want 3..%d (DSQN's first and last steps do not reach the output)", opts.Timesteps, MaxDSQNTimesteps)
	case opts.Observations < 0:
		return invalidf("{Observations} %d: want the observation width (>= 0; 0 turns the DSQN check off)", opts.Observations)
	case opts.Output == "":
		return invalidf("{Output}: want a model file path")
	case opts.Actions < 0:
		return invalidf("{Actions} %d: want the number of actions (>= 0; 0: not checked unless the file says)", opts.Actions)
	}
	return nil
}

// importMeta is an imported ANN's metadata: what its outputs mean and
// where it came from.
func importMeta(opts ImportPyTorchOptions, imp *formats.TorchImport, sb3 *formats.SB3Model) formats.ModelMeta {
	net := imp.Network
	meta := formats.ModelMeta{Output: formats.IOSpec{Meaning: "q-values"}}
	if net.InputSize() == 4 && net.OutputSize() == 2 {
		meta = formats.CartPoleQMeta()
	}
	if imp.Structure == "actor-critic" {
		// The actor's outputs are action preferences (logits); the greedy
		// action is their argmax, as for Q-values.
		meta.Output.Meaning = "action-logits"
		if headIsCritic(opts.Head) {
			meta.Output = formats.IOSpec{Meaning: "state-value"}
		}
	}
	settings := map[string]string{"layout": imp.Layout, "structure": imp.Structure}
	if opts.Head != "" {
		settings["head"] = opts.Head
	}
	if sb3 != nil {
		settings["sb3_policy"] = sb3.PolicyModule
	}
	addImportChoices(settings, opts)
	meta.Provenance = formats.Provenance{Source: opts.Input, Tool: "spikebridge import pytorch", Settings: settings}
	return meta
}

func addImportChoices(settings map[string]string, opts ImportPyTorchOptions) {
	if opts.Arch != "" {
		settings["arch"] = opts.Arch
	}
	if opts.Prefix != "" {
		settings["prefix"] = opts.Prefix
	}
}

func unmappedTensors(imp *formats.TorchImport) []ImportUnmappedTensor {
	out := []ImportUnmappedTensor{}
	for _, u := range imp.Unmapped {
		out = append(out, ImportUnmappedTensor(u))
	}
	return out
}

// headIsCritic reports whether a head name chose an actor-critic file's critic.
func headIsCritic(head string) bool {
	switch strings.ToLower(head) {
	case "critic", "value", "v", "vf":
		return true
	}
	return false
}

// importDSQN writes the imported layers as a spiking model file with DSQN's
// semantics (train.DSQNNetwork).
func importDSQN(opts ImportPyTorchOptions, tf *formats.TorchFile, imp *formats.TorchImport) (ImportResult, error) {
	net := imp.Network
	biasInput, why, err := dsqnBiasInput(opts, net)
	if err != nil {
		return ImportResult{}, err
	}
	s, err := train.DSQNNetwork(net, opts.Timesteps, biasInput)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import pytorch %s: %w", opts.Input, err)
	}
	if err := formats.SaveSNN(opts.Output, s, dsqnMeta(opts, imp, s, biasInput)); err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Input: opts.Input, Output: opts.Output, Format: tf.Format, Tensors: len(tf.Tensors),
		Arch: s.String(), FileArch: net.String(), Layout: imp.Layout, Kind: formats.ModelKindSNN, Semantics: formats.SemanticsDSQN,
		Timesteps: opts.Timesteps, SimulatedSteps: s.Timesteps, BiasInput: &biasInput, BiasInputReason: why,
		Layers: []ImportedLayer{}, Unmapped: unmappedTensors(imp), FileInputs: net.InputSize()}
	for i, l := range s.Layers {
		src := imp.Layers[i]
		kind := formats.LayerKindSpiking
		if i == len(s.Layers)-1 {
			kind = formats.LayerKindIntegrator
		}
		res.Layers = append(res.Layers, ImportedLayer{Name: l.Name, Kind: kind, In: l.In, Out: l.Out, Weight: src.Weight, Bias: src.Bias})
	}
	return res, nil
}

// dsqnBiasInput decides whether the network's last input is DSQN's
// constant 1, and says why.
func dsqnBiasInput(opts ImportPyTorchOptions, net *model.Network) (bool, string, error) {
	hasBias := false
	for _, l := range net.Layers() {
		hasBias = hasBias || l.Bias != nil
	}
	biasInput, why := !hasBias, "the file holds no biases: DSQN appends a constant 1 to the observation instead"
	switch {
	case opts.BiasInput == "yes":
		biasInput, why = true, "{BiasInput} yes"
	case opts.BiasInput == "no":
		biasInput, why = false, "{BiasInput} no"
	case hasBias:
		why = "the file holds biases, so no constant-1 input"
	case opts.Observations > 0 && net.InputSize() == opts.Observations:
		biasInput, why = false, fmt.Sprintf("the file's %d inputs are the %d observations ({Observations})", net.InputSize(), opts.Observations)
	case opts.Observations > 0 && net.InputSize() != opts.Observations+1:
		return false, "", invalidf("%s: a bias-free network with %d inputs for %d observations ({Observations}): is its last input DSQN's constant 1? say so with {BiasInput} yes or no",
			opts.Input, net.InputSize(), opts.Observations)
	}
	return biasInput, why, nil
}

func dsqnMeta(opts ImportPyTorchOptions, imp *formats.TorchImport, s *snn.Network, biasInput bool) formats.SNNMeta {
	meta := formats.SNNMeta{Output: formats.IOSpec{Meaning: "q-values"}}
	meta.Input.Meaning = "observation"
	if s.InputSize() == 4 && s.OutputSize() == 2 {
		cp := formats.CartPoleQMeta()
		meta.Input, meta.Output = cp.Input, cp.Output
	}
	settings := map[string]string{"semantics": formats.SemanticsDSQN, "layout": imp.Layout,
		"timesteps": strconv.Itoa(opts.Timesteps), "bias_input": strconv.FormatBool(biasInput)}
	addImportChoices(settings, opts)
	meta.Provenance = formats.Provenance{Source: opts.Input, Tool: "spikebridge import pytorch", Settings: settings}
	return meta
}
