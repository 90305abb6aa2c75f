package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/convert"
	"github.com/spikebridge/spikebridge/workflow"
)

// CompareOptions holds the flags of `spikebridge compare`.
type CompareOptions struct {
	IO *IOStreams
	workflow.CompareOptions
	JSON bool
}

// NewCmdCompare parses flags into CompareOptions; runF replaces runCompare in tests.
func NewCmdCompare(ios *IOStreams, runF func(*CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "compare --ann M --snn S [--env cartpole-v1] [--episodes 100] [--timesteps 8,16,...] --out DIR",
		Short: "Compare an ANN agent and its spiking conversion over a T sweep (agreement, returns, Q error, cost)",
		Long: `Play the same episodes (same initial states) with the ANN and, for every T, with the
SNN, and measure DESIGN.md's comparison metrics: agreement with the ANN's action on the
SNN's own trajectory (overall and on decisive states, ANN margin > --decisive-margin),
on a fixed state set (--states, default the ANN's own states), returns (mean ± std),
Q error and its ratio to the ANN's mean margin, spikes and synaptic operations per
decision against the ANN's multiply-accumulates.

Writes compare.json (the --json document), compare.csv (one row per T) and PNG plots
(agreement_vs_T, return_vs_T, q_scatter, spike_raster) into --out.`,
		Example: "  spikebridge compare --ann policy.pt --snn snn.safetensors --episodes 100 --out cmp",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageErrorf("--out DIR is required")
			}
			if opts.InitStates != "" {
				switch {
				case !cmd.Flags().Changed("episodes"):
					opts.Episodes = 0 // one episode per initial state
				case opts.Episodes == 0:
					opts.Episodes = -1 // given: refused beside --init-states
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runCompare(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ANN, "ann", "model.safetensors", "the original ANN (.safetensors or PyTorch .pt)")
	f.StringVar(&opts.SNN, "snn", "snn.safetensors", "the spiking model file (spikebridge convert)")
	f.StringVar(&opts.Source, "source", "", "the network the SNN was converted from, if not --ann (a distilled student)")
	f.StringVar(&opts.Env, "env", "cartpole-v1", "environment: cartpole-v1 or cartpole-v0")
	f.IntVar(&opts.Episodes, "episodes", 100, "episodes from --seed (the same initial states for ANN and SNN)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the initial states")
	f.StringVar(&opts.InitStates, "init-states", "", "initial states, one episode per row: FILE.npz[:array] (default array init_states)")
	f.StringVar(&opts.States, "states", "", "fixed state set of agreement_fixed (.npz, array states); default: the ANN's own states")
	f.IntSliceVar(&opts.Timesteps, "timesteps", convert.DefaultTimesteps(), "T values to measure")
	f.Float64Var(&opts.DecisiveMargin, "decisive-margin", workflow.DefaultDecisiveMargin, "a state is decisive when the ANN's Q margin exceeds this")
	f.StringVar(&opts.Out, "out", "", "output directory (required)")
	f.BoolVar(&opts.JSON, "json", false, "print compare.json on stdout too")
	return cmd
}

func runCompare(opts *CompareOptions) error {
	o := opts.CompareOptions
	// Progress goes to stderr even with --json: stdout holds the document.
	o.Progress = &stepLines{w: opts.IO.ErrOut}
	o.CheckInitStates = func(n int) error { return checkEpisodesMemory("--init-states "+opts.InitStates, n) }
	doc, err := workflow.Compare(o)
	if err != nil {
		return flagErr(err)
	}
	if opts.JSON {
		data, err := doc.JSON()
		if err == nil {
			_, err = opts.IO.Out.Write(data)
		}
		return err
	}
	return writeCompareText(opts.IO.Out, opts, doc.Comparison)
}

func writeCompareText(w io.Writer, opts *CompareOptions, c *convert.Comparison) error {
	fmt.Fprintf(w, "ANN %s: return %.2f ± %.2f over %d episodes, %d MACs per decision; %d fixed states, mean margin %.4f\n",
		opts.ANN, c.ANN.ReturnsMean, c.ANN.ReturnsStd, c.Episodes, c.ANN.MACs, c.FixedStates, c.ANN.MarginMean)
	fmt.Fprintf(w, "%6s %8s %8s %8s %8s %16s %7s %6s %9s %9s %10s %10s\n", "T", "own%", "dec%", "fixed%", "source%", "SNN return",
		"x ANN", "len≠%", "Q err", "err/marg", "spikes", "SynOps")
	for _, r := range c.Results {
		source := "-"
		if r.AgreementSource != nil {
			source = fmt.Sprintf("%.2f", 100**r.AgreementSource)
		}
		ratio := "-"
		if r.ReturnRatio != nil {
			ratio = fmt.Sprintf("%.3f", *r.ReturnRatio)
		}
		fmt.Fprintf(w, "%6d %8.2f %8.2f %8.2f %8s %7.1f ± %6.1f %7s %6.1f %9.4f %9.3f %10.1f %10.1f\n", r.Timesteps, 100*r.AgreementOwn,
			100*r.AgreementDecisive, 100*r.AgreementFixed, source, r.SNNReturnsMean, r.SNNReturnsStd, ratio, 100*r.LengthDiffers,
			r.QAbsError, r.QErrorMarginRatio, r.SpikesPerDecision, r.SynOpsPerDecision)
	}
	_, err := fmt.Fprintf(w, "wrote %s, %s and plots into %s\n", workflow.CompareJSONFile, workflow.CompareCSVFile, opts.Out)
	return err
}
