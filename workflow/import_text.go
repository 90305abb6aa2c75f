package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spikebridge/spikebridge/formats"
)

// JSON is import pytorch's --json document (indented, with a final newline).
func (res ImportResult) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(res, "", "  ")
	return append(data, '\n'), err
}

// NameOptions writes out the options that BiasInputReason and Notes name
// in braces as name names them (OptionText; the CLI gives its flag names).
func (res *ImportResult) NameOptions(name func(option string) string) {
	res.BiasInputReason = OptionText(res.BiasInputReason, name)
	for i, note := range res.Notes {
		res.Notes[i] = OptionText(note, name)
	}
}

// WriteText writes the import for people: the layers and where they came
// from, the choices made, and the tensors left out. name writes out the
// options a hint names (the CLI gives its flag names).
func (res ImportResult) WriteText(w io.Writer, name func(option string) string) error {
	if res.Semantics == formats.SemanticsDSQN {
		return res.writeDSQNText(w)
	}
	fmt.Fprintf(w, "imported %s (%s format, %d tensors) as %s, weights %s\n", res.Input, res.Format, res.Tensors, res.Arch, res.Layout)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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
		fmt.Fprintf(w, "Stable-Baselines3 %s policy (%s), %d actions\n", res.SB3.Algorithm, res.SB3.Policy, res.SB3.Actions)
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(w, "%s; chosen:\n", res.Structure)
		for _, n := range res.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if res.ActivationAssumed {
		fmt.Fprintln(w, OptionText("note: the file does not store the hidden activation; if the network was trained with another than ReLU, "+
			"import it with {Activation} tanh|sigmoid|leaky_relu[=slope]|elu[=alpha]", name))
	}
	return res.writeUnmapped(w)
}

func (res ImportResult) writeDSQNText(w io.Writer) error {
	fmt.Fprintf(w, "imported %s (%s format, %d tensors, %s weights %s) as a DSQN spiking Q-network %s:\n",
		res.Input, res.Format, res.Tensors, res.FileArch, res.Layout, res.Arch)
	if *res.BiasInput {
		fmt.Fprintf(w, "  the last of the %d inputs is DSQN's constant 1 (%s); its weights became the first layer's constant current\n",
			res.FileInputs, res.BiasInputReason)
	} else {
		fmt.Fprintf(w, "  no constant-1 input (%s)\n", res.BiasInputReason)
	}
	fmt.Fprintf(w, "  IF neurons, threshold 1, spike when v > 1, reset by subtraction, one step of latency per layer, "+
		"Q = output membrane after T = %d steps (snn next-step schedule over %d steps)\n", res.Timesteps, res.SimulatedSteps)
	return res.writeUnmapped(w)
}

func (res ImportResult) writeUnmapped(w io.Writer) error {
	if len(res.Unmapped) > 0 {
		fmt.Fprintf(w, "unmapped tensors (%d):\n", len(res.Unmapped))
		for _, u := range res.Unmapped {
			fmt.Fprintf(w, "  %s: %s\n", u.Name, u.Reason)
		}
	}
	_, err := fmt.Fprintf(w, "wrote %s\n", res.Output)
	return err
}
