package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/train"
)

// NewCmdImport is the parent of the import verbs (`import pytorch`).
func NewCmdImport(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import networks trained elsewhere (PyTorch .pt) as spikebridge model files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("import needs a subcommand: %s", subcommandNames(cmd))
		},
	}
	cmd.AddCommand(NewCmdImportPyTorch(ios, nil))
	cmd.AddCommand(NewCmdImportNIR(ios, nil))
	return cmd
}

// ImportPyTorchOptions holds the flags of `spikebridge import pytorch`.
type ImportPyTorchOptions struct {
	IO     *IOStreams
	Input  string
	Output string
	Arch   string
	Layout string
	Prefix string
	JSON   bool
	// Semantics is "" (an ANN unless the file looks like DSQN's layout),
	// "ann" or "dsqn"; Timesteps and BiasInput are DSQN's T and whether the
	// last input is its constant 1 ("auto": when the file has no biases).
	Semantics    string
	Timesteps    int
	BiasInput    string
	Observations int
	Head         string
	Actions      int
	Activation   string
}

// NewCmdImportPyTorch parses flags into ImportPyTorchOptions; runF replaces
// runImportPyTorch in tests.
func NewCmdImportPyTorch(ios *IOStreams, runF func(*ImportPyTorchOptions) error) *cobra.Command {
	opts := &ImportPyTorchOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "pytorch FILE.pt -o model.safetensors",
		Short: "Import a torch.save file or Stable-Baselines3 zip (state_dict, checkpoint, whole module, dueling, actor-critic, DSQN weight lists) as a model file",
		Long: `Reads a file written by torch.save without Python: a state_dict, a checkpoint dict
(model/state_dict beside optimizer state), a whole pickled nn.Module, or the DSQN
layouts ([W...], [b or None...]) with weights stored (in, out). The Linear layers
are chained by their numeric index (fc1, l2, layers.3, Sequential 0/2/4 under any
prefix), with a linear output. Activations: a whole pickled module's own
(Tanh, Sigmoid, LeakyReLU, ELU, ReLU modules), a Stable-Baselines3 zip's
(policy_kwargs, else the library's default: ReLU for DQN, Tanh for PPO/A2C),
else ReLU (a state_dict does not store them). Sub-networks are recognised by
name: a dueling DQN's value and advantage heads are folded into one Linear
layer (Q = V + A - mean(A)); an actor-critic file gives its actor (--head
critic for the value head); target-network copies are left out. What would
need a guess is refused: broken chains, several heads, recurrent layers,
unknown activation modules (--arch imports the Linear layers explicitly, and
never across sub-networks). Tensors that do not fit (conv, batch norm,
scalars, optimizer state) are listed. TorchScript archives are refused: save
a state_dict with torch.save(model.state_dict(), path).

--semantics dsqn writes a spiking model file with the DSQN code's semantics
(bias-free weight lists with a constant 1 appended to the observation, IF
neurons, threshold 1 with a strict >, reset by subtraction, one step of
latency per layer, Q = the output membrane after --timesteps steps).`,
		Example: `  spikebridge import pytorch policy.pt -o model.safetensors
  spikebridge import pytorch dsqn.pt --layout in-out --arch 4-16-16-2 -o model.safetensors
  spikebridge import pytorch checkpoint.pt --prefix target_net. -o target.safetensors --json
  spikebridge import pytorch ppo_cartpole.zip -o actor.safetensors
  spikebridge import pytorch dsqn.pt --semantics dsqn --timesteps 20 -o snn.safetensors`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImportPyTorch(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "model.safetensors", "model file to write (.safetensors)")
	cmd.Flags().StringVar(&opts.Arch, "arch", "", "layer sizes and hidden activation, e.g. 4-64-64-2:relu (default: inferred from the tensors)")
	cmd.Flags().StringVar(&opts.Layout, "layout", "", "weight layout: out-in (torch.nn.Linear) or in-out (DSQN); default out-in for named tensors, inferred from the shapes for weight lists")
	cmd.Flags().StringVar(&opts.Prefix, "prefix", "", "import only tensors whose name starts with this (e.g. target_net.)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	cmd.Flags().StringVar(&opts.Semantics, "semantics", "", "what the weights mean: ann (Dense layers with activations) or dsqn (a DSQN spiking Q-network: IF neurons, threshold 1 strict, reset by subtraction, one step of latency per layer, Q = output membrane); default ann, refusing DSQN-like weight lists")
	cmd.Flags().IntVar(&opts.Timesteps, "timesteps", 20, "with --semantics dsqn: DSQN's T, the steps per decision")
	cmd.Flags().StringVar(&opts.BiasInput, "bias-input", "auto", "with --semantics dsqn: whether the last input is DSQN's constant 1 (auto: yes when the file holds no biases; yes; no)")
	cmd.Flags().StringVar(&opts.Activation, "activation", "", "hidden activation where the file does not store one (a state_dict, a weight list): relu, tanh, sigmoid, leaky_relu[=slope], elu[=alpha] (default relu; a Stable-Baselines3 zip's own)")
	cmd.Flags().StringVar(&opts.Head, "head", "", "for files with several heads: actor (policy), critic (value), or the head's module name (default: the actor of an actor-critic file; dueling heads are folded)")
	cmd.Flags().IntVar(&opts.Actions, "actions", 0, "number of actions the network must output (default: from a Stable-Baselines3 zip's action space, else not checked)")
	cmd.Flags().IntVar(&opts.Observations, "observations", 4, "the environment's observation width (CartPole: 4); a bias-free weight list with one input more is DSQN's layout")
	return cmd
}

// importResult is the --json document of `import pytorch`.
type importResult struct {
	Input    string                    `json:"input"`
	Output   string                    `json:"output"`
	Format   string                    `json:"format"`
	Tensors  int                       `json:"tensors"`
	Arch     string                    `json:"arch"`
	Layout   string                    `json:"layout"`
	Layers   []importLayerJSON         `json:"layers"`
	Unmapped []importUnmappedTensorDoc `json:"unmapped"`
	// Kind is "ann" or "snn"; the DSQN fields are set for --semantics dsqn
	// (FileArch: the sizes in the file, before the constant-1 input folds
	// into a bias; SimulatedSteps: snn's steps for DSQN's Timesteps).
	Kind string `json:"kind"`
	// Structure is what the file held ("chain", "dueling", "actor-critic",
	// "weight list", "chain (arch)"), Notes what was chosen and why.
	Structure string        `json:"structure,omitempty"`
	Notes     []string      `json:"notes,omitempty"`
	SB3       *importSB3Doc `json:"sb3,omitempty"`
	// ActivationAssumed: the hidden activation is not in the file (ReLU
	// was used).
	ActivationAssumed bool   `json:"activation_assumed"`
	Semantics         string `json:"semantics,omitempty"`
	FileArch          string `json:"file_arch,omitempty"`
	Timesteps         int    `json:"timesteps,omitempty"`
	SimulatedSteps    int    `json:"simulated_steps,omitempty"`
	BiasInput         *bool  `json:"bias_input,omitempty"`
	BiasInputReason   string `json:"bias_input_reason,omitempty"`
}

// importSB3Doc is what a Stable-Baselines3 zip's data member said.
type importSB3Doc struct {
	Policy        string `json:"policy"`
	Algorithm     string `json:"algorithm"`
	Activation    string `json:"activation"`
	ActivationWhy string `json:"activation_why"`
	Actions       int    `json:"actions"`
	Observations  int    `json:"observations"`
}

type importLayerJSON struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	In     int    `json:"in"`
	Out    int    `json:"out"`
	Weight string `json:"weight,omitempty"`
	Bias   string `json:"bias,omitempty"`
}

type importUnmappedTensorDoc struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func runImportPyTorch(opts *ImportPyTorchOptions) error {
	switch opts.Layout {
	case "", formats.LayoutOutIn, formats.LayoutInOut:
	default:
		return usageErrorf("--layout %q: want %s or %s", opts.Layout, formats.LayoutOutIn, formats.LayoutInOut)
	}
	switch opts.Semantics {
	case formats.SemanticsAuto, formats.SemanticsANN, formats.SemanticsDSQN:
	default:
		return usageErrorf("--semantics %q: want %s or %s", opts.Semantics, formats.SemanticsANN, formats.SemanticsDSQN)
	}
	switch opts.BiasInput {
	case "", "auto", "yes", "no":
	default:
		return usageErrorf("--bias-input %q: want auto, yes or no", opts.BiasInput)
	}
	if opts.Semantics == formats.SemanticsDSQN && (opts.Timesteps < 3 || opts.Timesteps > maxDSQNTimesteps) {
		return usageErrorf("--timesteps %d: want 3..%d (DSQN's first and last steps do not reach the output)", opts.Timesteps, maxDSQNTimesteps)
	}
	if opts.Observations < 0 {
		return usageErrorf("--observations %d: want the observation width (>= 0; 0 turns the DSQN check off)", opts.Observations)
	}
	if opts.Output == "" {
		return usageErrorf("-o/--output: want a model file path")
	}
	if opts.Actions < 0 {
		return usageErrorf("--actions %d: want the number of actions (>= 0; 0: not checked unless the file says)", opts.Actions)
	}
	tf, sb3, err := formats.LoadTorchOrSB3(opts.Input)
	if err != nil {
		return err
	}
	iopts := formats.ImportOptions{Arch: opts.Arch, Layout: opts.Layout, Prefix: opts.Prefix,
		Semantics: opts.Semantics, ObservationSize: opts.Observations, Head: opts.Head, Actions: opts.Actions}
	if sb3 != nil {
		sb3.ApplyTo(&iopts)
	}
	if opts.Activation != "" {
		kind, alpha, err := formats.ParseActivation(opts.Activation)
		if err != nil {
			return usageErrorf("--activation: %v", err)
		}
		iopts.Activation, iopts.ActivationAlpha, iopts.ActivationWhy = kind, alpha, "as given with --activation"
	}
	imp, err := formats.TorchToNetwork(tf, iopts)
	if errors.Is(err, formats.ErrAmbiguousNetwork) {
		return fmt.Errorf("import pytorch %s: %w\n  choose with --head actor|critic|MODULE, --prefix PREFIX, or --arch SIZES[:activation]", opts.Input, err)
	}
	if errors.Is(err, formats.ErrAmbiguousLayout) {
		return fmt.Errorf("import pytorch %s: %w\n  choose one with --layout %s|%s", opts.Input, err, formats.LayoutInOut, formats.LayoutOutIn)
	}
	if errors.Is(err, formats.ErrProbablyDSQN) {
		return fmt.Errorf("import pytorch %s: %w\n  as DSQN's spiking network: spikebridge import pytorch %s --semantics dsqn [--timesteps 20] -o snn.safetensors"+
			"\n  as an ANN anyway:           spikebridge import pytorch %s --semantics ann -o model.safetensors", opts.Input, err, opts.Input, opts.Input)
	}
	if err != nil {
		return fmt.Errorf("import pytorch %s: %w", opts.Input, err)
	}
	if opts.Semantics == formats.SemanticsDSQN {
		return importDSQN(opts, tf, imp)
	}
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
	if opts.Arch != "" {
		settings["arch"] = opts.Arch
	}
	if opts.Prefix != "" {
		settings["prefix"] = opts.Prefix
	}
	meta.Provenance = formats.Provenance{Source: opts.Input, Tool: "spikebridge import pytorch", Settings: settings}
	if err := formats.SaveModel(opts.Output, net, meta); err != nil {
		return err
	}

	res := importResult{Input: opts.Input, Output: opts.Output, Format: tf.Format, Tensors: len(tf.Tensors),
		Arch: net.String(), Layout: imp.Layout, Kind: formats.ModelKindANN, Structure: imp.Structure, Notes: imp.Notes,
		ActivationAssumed: imp.ActivationAssumed,
		Layers:            []importLayerJSON{}, Unmapped: []importUnmappedTensorDoc{}}
	if res.Notes == nil {
		res.Notes = []string{}
	}
	if sb3 != nil {
		res.SB3 = &importSB3Doc{Policy: sb3.PolicyModule, Algorithm: sb3.Algorithm, Activation: string(sb3.Activation),
			ActivationWhy: sb3.ActivationWhy, Actions: sb3.Actions, Observations: sb3.Observations}
	}
	from := make(map[string]formats.ImportedLayer, len(imp.Layers))
	for _, l := range imp.Layers {
		from[l.Layer] = l
	}
	for _, l := range net.Layers() {
		src := from[l.Name]
		res.Layers = append(res.Layers, importLayerJSON{Name: l.Name, Kind: string(l.Kind), In: l.In, Out: l.Out, Weight: src.Weight, Bias: src.Bias})
	}
	for _, u := range imp.Unmapped {
		res.Unmapped = append(res.Unmapped, importUnmappedTensorDoc(u))
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printImport(opts.IO, res)
}

func printImport(ios *IOStreams, res importResult) error {
	fmt.Fprintf(ios.Out, "imported %s (%s format, %d tensors) as %s, weights %s\n", res.Input, res.Format, res.Tensors, res.Arch, res.Layout)
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  layer\tkind\tin\tout\tfrom")
	for _, l := range res.Layers {
		src := l.Weight
		if l.Bias != "" {
			src += ", " + l.Bias
		} else if l.Kind == "dense" {
			src += " (no bias)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%s\n", l.Name, l.Kind, l.In, l.Out, src)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res.SB3 != nil {
		fmt.Fprintf(ios.Out, "Stable-Baselines3 %s policy (%s), %d actions\n", res.SB3.Algorithm, res.SB3.Policy, res.SB3.Actions)
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(ios.Out, "%s; chosen:\n", res.Structure)
		for _, n := range res.Notes {
			fmt.Fprintf(ios.Out, "  %s\n", n)
		}
	}
	if res.ActivationAssumed {
		fmt.Fprintln(ios.Out, "note: the file does not store the hidden activation; if the network was trained with another than ReLU, "+
			"import it with --activation tanh|sigmoid|leaky_relu[=slope]|elu[=alpha]")
	}
	if len(res.Unmapped) > 0 {
		fmt.Fprintf(ios.Out, "unmapped tensors (%d):\n", len(res.Unmapped))
		for _, u := range res.Unmapped {
			fmt.Fprintf(ios.Out, "  %s: %s\n", u.Name, u.Reason)
		}
	}
	_, err := fmt.Fprintf(ios.Out, "wrote %s\n", res.Output)
	return err
}

// headIsCritic reports whether --head chose an actor-critic file's critic.
func headIsCritic(head string) bool {
	switch strings.ToLower(head) {
	case "critic", "value", "v", "vf":
		return true
	}
	return false
}

// maxDSQNTimesteps bounds --timesteps of a DSQN import (a decision costs T
// steps of every layer).
const maxDSQNTimesteps = 100_000

// importDSQN writes the imported layers as a spiking model file with DSQN's
// semantics (train.DSQNNetwork).
func importDSQN(opts *ImportPyTorchOptions, tf *formats.TorchFile, imp *formats.TorchImport) error {
	net := imp.Network
	hasBias := false
	for _, l := range net.Layers() {
		hasBias = hasBias || l.Bias != nil
	}
	biasInput, why := !hasBias, "the file holds no biases: DSQN appends a constant 1 to the observation instead"
	switch {
	case opts.BiasInput == "yes":
		biasInput, why = true, "--bias-input yes"
	case opts.BiasInput == "no":
		biasInput, why = false, "--bias-input no"
	case hasBias:
		why = "the file holds biases, so no constant-1 input"
	case opts.Observations > 0 && net.InputSize() == opts.Observations:
		biasInput, why = false, fmt.Sprintf("the file's %d inputs are the %d observations (--observations)", net.InputSize(), opts.Observations)
	case opts.Observations > 0 && net.InputSize() != opts.Observations+1:
		return usageErrorf("%s: a bias-free network with %d inputs for %d observations (--observations): is its last input DSQN's constant 1? say so with --bias-input yes or no",
			opts.Input, net.InputSize(), opts.Observations)
	}
	s, err := train.DSQNNetwork(net, opts.Timesteps, biasInput)
	if err != nil {
		return fmt.Errorf("import pytorch %s: %w", opts.Input, err)
	}
	meta := formats.SNNMeta{Output: formats.IOSpec{Meaning: "q-values"}}
	meta.Input.Meaning = "observation"
	if s.InputSize() == 4 && s.OutputSize() == 2 {
		cp := formats.CartPoleQMeta()
		meta.Input, meta.Output = cp.Input, cp.Output
	}
	settings := map[string]string{"semantics": formats.SemanticsDSQN, "layout": imp.Layout,
		"timesteps": strconv.Itoa(opts.Timesteps), "bias_input": strconv.FormatBool(biasInput)}
	if opts.Arch != "" {
		settings["arch"] = opts.Arch
	}
	if opts.Prefix != "" {
		settings["prefix"] = opts.Prefix
	}
	meta.Provenance = formats.Provenance{Source: opts.Input, Tool: "spikebridge import pytorch", Settings: settings}
	if err := formats.SaveSNN(opts.Output, s, meta); err != nil {
		return err
	}
	res := importResult{Input: opts.Input, Output: opts.Output, Format: tf.Format, Tensors: len(tf.Tensors),
		Arch: s.String(), FileArch: net.String(), Layout: imp.Layout, Kind: formats.ModelKindSNN, Semantics: formats.SemanticsDSQN,
		Timesteps: opts.Timesteps, SimulatedSteps: s.Timesteps, BiasInput: &biasInput, BiasInputReason: why,
		Layers: []importLayerJSON{}, Unmapped: []importUnmappedTensorDoc{}}
	for i, l := range s.Layers {
		src := imp.Layers[i]
		kind := formats.LayerKindSpiking
		if i == len(s.Layers)-1 {
			kind = formats.LayerKindIntegrator
		}
		res.Layers = append(res.Layers, importLayerJSON{Name: l.Name, Kind: kind, In: l.In, Out: l.Out, Weight: src.Weight, Bias: src.Bias})
	}
	for _, u := range imp.Unmapped {
		res.Unmapped = append(res.Unmapped, importUnmappedTensorDoc(u))
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	fmt.Fprintf(opts.IO.Out, "imported %s (%s format, %d tensors, %s weights %s) as a DSQN spiking Q-network %s:\n",
		res.Input, res.Format, res.Tensors, res.FileArch, res.Layout, res.Arch)
	if biasInput {
		fmt.Fprintf(opts.IO.Out, "  the last of the %d inputs is DSQN's constant 1 (%s); its weights became the first layer's constant current\n",
			net.InputSize(), why)
	} else {
		fmt.Fprintf(opts.IO.Out, "  no constant-1 input (%s)\n", why)
	}
	fmt.Fprintf(opts.IO.Out, "  IF neurons, threshold 1, spike when v > 1, reset by subtraction, one step of latency per layer, "+
		"Q = output membrane after T = %d steps (snn next-step schedule over %d steps)\n", opts.Timesteps, s.Timesteps)
	if len(res.Unmapped) > 0 {
		fmt.Fprintf(opts.IO.Out, "unmapped tensors (%d):\n", len(res.Unmapped))
		for _, u := range res.Unmapped {
			fmt.Fprintf(opts.IO.Out, "  %s: %s\n", u.Name, u.Reason)
		}
	}
	_, err = fmt.Fprintf(opts.IO.Out, "wrote %s\n", res.Output)
	return err
}
