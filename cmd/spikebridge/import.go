package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
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
}

// NewCmdImportPyTorch parses flags into ImportPyTorchOptions; runF replaces
// runImportPyTorch in tests.
func NewCmdImportPyTorch(ios *IOStreams, runF func(*ImportPyTorchOptions) error) *cobra.Command {
	opts := &ImportPyTorchOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "pytorch FILE.pt -o model.safetensors",
		Short: "Import a torch.save file (state_dict, checkpoint, whole module, DSQN weight lists) as a Dense/ReLU model",
		Long: `Reads a file written by torch.save without Python: a state_dict, a checkpoint dict
(model/state_dict beside optimizer state), a whole pickled nn.Module, or the DSQN
layouts ([W...], [b or None...]) with weights stored (in, out). The Linear layers
are chained by their numeric index (fc1, l2, layers.3, Sequential 0/2/4 under any
prefix), with ReLU between them and a linear output. Tensors that do not fit
(conv, batch norm, scalars, optimizer state) are listed. TorchScript archives
are refused: save a state_dict with torch.save(model.state_dict(), path).`,
		Example: `  spikebridge import pytorch policy.pt -o model.safetensors
  spikebridge import pytorch dsqn.pt --layout in-out --arch 4-16-16-2 -o model.safetensors
  spikebridge import pytorch checkpoint.pt --prefix target_net. -o target.safetensors --json`,
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
	if opts.Output == "" {
		return usageErrorf("-o/--output: want a model file path")
	}
	tf, err := formats.LoadTorch(opts.Input)
	if err != nil {
		return err
	}
	imp, err := formats.TorchToNetwork(tf, formats.ImportOptions{Arch: opts.Arch, Layout: opts.Layout, Prefix: opts.Prefix})
	if err != nil {
		return fmt.Errorf("import pytorch %s: %w", opts.Input, err)
	}
	net := imp.Network
	meta := formats.ModelMeta{}
	if net.InputSize() == 4 && net.OutputSize() == 2 {
		meta = formats.CartPoleQMeta()
	}
	settings := map[string]string{"layout": imp.Layout}
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
		Arch: net.String(), Layout: imp.Layout, Layers: []importLayerJSON{}, Unmapped: []importUnmappedTensorDoc{}}
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
	if len(res.Unmapped) > 0 {
		fmt.Fprintf(ios.Out, "unmapped tensors (%d):\n", len(res.Unmapped))
		for _, u := range res.Unmapped {
			fmt.Fprintf(ios.Out, "  %s: %s\n", u.Name, u.Reason)
		}
	}
	_, err := fmt.Fprintf(ios.Out, "wrote %s\n", res.Output)
	return err
}
