package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/workflow"
)

// NewCmdImport is the parent of the import verbs (`import pytorch`).
func NewCmdImport(ios *IOStreams) *cobra.Command {
	return newParentCmd("import", "Import networks trained elsewhere (PyTorch .pt) as spikebridge model files",
		NewCmdImportPyTorch(ios, nil), NewCmdImportNIR(ios, nil))
}

// ImportPyTorchOptions holds the flags of `spikebridge import pytorch`.
type ImportPyTorchOptions struct {
	IO *IOStreams
	workflow.ImportPyTorchOptions
	JSON bool
}

// NewCmdImportPyTorch parses flags into ImportPyTorchOptions; runF replaces
// runImportPyTorch in tests.
func NewCmdImportPyTorch(ios *IOStreams, runF func(*ImportPyTorchOptions) error) *cobra.Command {
	opts := &ImportPyTorchOptions{IO: ios, ImportPyTorchOptions: workflow.DefaultImportPyTorchOptions()}
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
			return runVerb(runF, runImportPyTorch, opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", opts.Output, "model file to write (.safetensors)")
	cmd.Flags().StringVar(&opts.Arch, "arch", "", "layer sizes and hidden activation, e.g. 4-64-64-2:relu (default: inferred from the tensors)")
	cmd.Flags().StringVar(&opts.Layout, "layout", "", "weight layout: out-in (torch.nn.Linear) or in-out (DSQN); default out-in for named tensors, inferred from the shapes for weight lists")
	cmd.Flags().StringVar(&opts.Prefix, "prefix", "", "import only tensors whose name starts with this (e.g. target_net.)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	cmd.Flags().StringVar(&opts.Semantics, "semantics", "", "what the weights mean: ann (Dense layers with activations) or dsqn (a DSQN spiking Q-network: IF neurons, threshold 1 strict, reset by subtraction, one step of latency per layer, Q = output membrane); default ann, refusing DSQN-like weight lists")
	cmd.Flags().IntVar(&opts.Timesteps, "timesteps", opts.Timesteps, "with --semantics dsqn: DSQN's T, the steps per decision")
	cmd.Flags().StringVar(&opts.BiasInput, "bias-input", opts.BiasInput, "with --semantics dsqn: whether the last input is DSQN's constant 1 (auto: yes when the file holds no biases; yes; no)")
	cmd.Flags().StringVar(&opts.Activation, "activation", "", "hidden activation where the file does not store one (a state_dict, a weight list): relu, tanh, sigmoid, leaky_relu[=slope], elu[=alpha] (default relu; a Stable-Baselines3 zip's own)")
	cmd.Flags().StringVar(&opts.Head, "head", "", "for files with several heads: actor (policy), critic (value), or the head's module name (default: the actor of an actor-critic file; dueling heads are folded)")
	cmd.Flags().IntVar(&opts.Actions, "actions", 0, "number of actions the network must output (default: from a Stable-Baselines3 zip's action space, else not checked)")
	cmd.Flags().IntVar(&opts.Observations, "observations", opts.Observations, "the environment's observation width (CartPole: 4); a bias-free weight list with one input more is DSQN's layout")
	return cmd
}

func runImportPyTorch(opts *ImportPyTorchOptions) error {
	res, err := workflow.ImportPyTorch(opts.ImportPyTorchOptions)
	if err != nil {
		return importHints(flagErr(err), opts.Input)
	}
	res.NameOptions(flagName)
	return printResult(opts.IO, opts.JSON, res, func(w io.Writer) error { return res.WriteText(w, flagName) })
}

// importHints adds to an import error the flags that resolve it.
func importHints(err error, input string) error {
	switch {
	case errors.Is(err, formats.ErrAmbiguousNetwork):
		return fmt.Errorf("%w\n  choose with --head actor|critic|MODULE, --prefix PREFIX, or --arch SIZES[:activation]", err)
	case errors.Is(err, formats.ErrAmbiguousLayout):
		return fmt.Errorf("%w\n  choose one with --layout %s|%s", err, formats.LayoutInOut, formats.LayoutOutIn)
	case errors.Is(err, formats.ErrProbablyDSQN):
		return fmt.Errorf("%w\n  as DSQN's spiking network: spikebridge import pytorch %s --semantics dsqn [--timesteps 20] -o snn.safetensors"+
			"\n  as an ANN anyway:           spikebridge import pytorch %s --semantics ann -o model.safetensors", err, input, input)
	}
	return err
}
