package main

import (
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
			return runVerb(runF, runCompare, opts)
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
	return printResult(opts.IO, opts.JSON, doc, doc.WriteText)
}
