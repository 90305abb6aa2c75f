package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/workflow"
)

// PipelineOptions holds the flags of `spikebridge pipeline`.
type PipelineOptions struct {
	IO *IOStreams
	workflow.PipelineOptions
	JSON bool
}

// NewCmdPipeline parses flags into PipelineOptions; runF replaces runPipeline in tests.
func NewCmdPipeline(ios *IOStreams, runF func(*PipelineOptions) error) *cobra.Command {
	opts := &PipelineOptions{IO: ios, PipelineOptions: workflow.DefaultPipelineOptions()}
	cmd := &cobra.Command{
		Use:   "pipeline [--out DIR] [--seed S] [--steps N] [--from-pytorch FILE.pt] [--timesteps LIST]",
		Short: "Train a DQN (or import one), convert it to spiking networks and compare them, with a report",
		Long: `Run the whole path in one go, each stage being one of the verbs:

  1. train dqn (defaults, --steps, --seed)  or  import pytorch --from-pytorch FILE.pt
  2. record: 60 episodes of the ANN with 20 % random actions -> states.npz
  3. convert --method baseline -> snn-baseline.safetensors
  4. convert --method distill (the best method) -> snn-distill.safetensors
  5. compare snn-baseline with the ANN over --episodes and the --timesteps sweep
  6. compare snn-distill the same way
  7. report: compare.json, compare.csv, plots and report.md

Everything lands in --out (default runs/pipeline-<seed>). An existing non-empty
directory is refused unless --force (start afresh) or --resume (continue an
interrupted training from its checkpoint and redo the later stages). A failing
stage is named and the outputs of the stages before it stay.`,
		Example: `  spikebridge pipeline
  spikebridge pipeline --seed 2 --out runs/p2
  spikebridge pipeline --from-pytorch policy.pt --out runs/imported`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				opts.Out = filepath.Join("runs", fmt.Sprintf("pipeline-%d", opts.Seed))
			}
			if opts.FromPyTorch != "" && cmd.Flags().Changed("steps") {
				return usageErrorf("--steps and --from-pytorch exclude each other: an imported network is not trained")
			}
			for _, name := range []string{"arch", "prefix", "layout", "head", "activation"} {
				if opts.FromPyTorch == "" && cmd.Flags().Changed(name) {
					return usageErrorf("--%s is an import flag: it needs --from-pytorch FILE", name)
				}
			}
			opts.Command = "spikebridge pipeline"
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.Command += " --" + f.Name + "=" + f.Value.String() })
			return runVerb(runF, runPipeline, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Out, "out", "", "output directory (default runs/pipeline-<seed>)")
	f.Uint64Var(&opts.Seed, "seed", opts.Seed, "seed of training, recording, conversion and the compared episodes")
	f.IntVar(&opts.Steps, "steps", opts.Steps, "DQN training steps")
	f.StringVar(&opts.FromPyTorch, "from-pytorch", "", "import this network instead of training one: a PyTorch .pt, a Stable-Baselines3 .zip or a spikebridge ANN model file")
	f.StringVar(&opts.Import.Arch, "arch", "", "with --from-pytorch: import pytorch's --arch")
	f.StringVar(&opts.Import.Prefix, "prefix", "", "with --from-pytorch: import pytorch's --prefix")
	f.StringVar(&opts.Import.Layout, "layout", "", "with --from-pytorch: import pytorch's --layout")
	f.StringVar(&opts.Import.Head, "head", "", "with --from-pytorch: import pytorch's --head")
	f.StringVar(&opts.Import.Activation, "activation", "", "with --from-pytorch: import pytorch's --activation")
	f.IntSliceVar(&opts.Timesteps, "timesteps", opts.Timesteps, "T values of the comparison")
	f.IntVar(&opts.Episodes, "episodes", opts.Episodes, "compared episodes (the same initial states for ANN and SNNs)")
	f.StringVar(&opts.Env, "env", opts.Env, "environment: cartpole-v1 or cartpole-v0")
	f.BoolVar(&opts.JSON, "json", false, "print one JSON document")
	f.BoolVar(&opts.Force, "force", false, "write into a non-empty --out, starting afresh")
	f.BoolVar(&opts.Resume, "resume", false, "continue an interrupted pipeline in --out (training resumes from its checkpoint)")
	return cmd
}

func runPipeline(opts *PipelineOptions) error {
	o := opts.PipelineOptions
	errOut := opts.IO.ErrOut
	o.OnStage = func(n, stages int, name, command string) {
		fmt.Fprintf(errOut, "pipeline [%d/%d] %s: %s\n", n, stages, name, command)
	}
	o.OnNote = func(note string) { fmt.Fprintf(errOut, "pipeline: %s\n", note) }
	o.TrainProgress, o.StepProgress = &trainLines{w: errOut}, &stepLines{w: errOut}
	o.Interrupt = interruptContext
	res, err := workflow.Pipeline(o)
	if err != nil {
		return importHints(flagErr(err), opts.FromPyTorch)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
