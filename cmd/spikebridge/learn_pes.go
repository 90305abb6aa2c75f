package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/learn"
	"github.com/spikebridge/spikebridge/workflow"
)

// LearnPESOptions holds the flags of `spikebridge learn pes`.
type LearnPESOptions struct {
	workflow.PESOptions
	IO         *IOStreams
	ConfigFile string
	JSON       bool
}

// NewCmdLearnPES parses flags into LearnPESOptions; runF replaces
// runLearnPES in tests.
func NewCmdLearnPES(ios *IOStreams, runF func(*LearnPESOptions) error) *cobra.Command {
	opts := &LearnPESOptions{IO: ios, PESOptions: workflow.PESOptions{Config: learn.DefaultChannelConfig(), Duration: 10, TestDuration: 2, Settle: 0.5, Freq: 1}}
	c := &opts.Config
	cmd := &cobra.Command{
		Use:   "pes",
		Short: "Learn a communication channel with Nengo's PES rule; save the weights, or reload them with learning off",
		Long: `Nengo's learning example in plain Go, with Nengo's semantics (LIF with sub-step spike times and
refractory period, Lowpass synapses, PES applied after each step): an input sin(2π f t) drives
ensemble pre; the connection pre → post starts from zero decoders and learns by PES from the
error decoded post − decoded pre. On Nengo's own run of this network (the PES fixture) every
spike of the traced second is identical and the weights agree to 2e-15.

Without --load: learn for --duration seconds, then (learning off, from the same start) run
--test-duration seconds and report the decoded output's RMSE against the input after --settle
seconds. --save writes the learned weights with both ensembles and their initial voltages
(float64 safetensors), so the file alone rebuilds the network.
With --load: run the saved network with learning off only (the test run).
--config FILE.json sets the network (keys: dt, dimensions, pre_neurons, post_neurons,
learning_rate, pre_tau, synapse_tau, reg, seed); flags given explicitly override it.`,
		Example: `  spikebridge learn pes --seed 0 --save pes.safetensors
  spikebridge learn pes --load pes.safetensors --test-duration 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ConfigFile != "" {
				changed := func(key string) bool { return cmd.Flags().Changed(strings.ReplaceAll(key, "_", "-")) }
				if err := workflow.ReadChannelConfig(opts.ConfigFile, c, changed); err != nil {
					return err
				}
			}
			return runVerb(runF, runLearnPES, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.ConfigFile, "config", "", "network configuration (JSON)")
	f.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the ensembles, the decoders' evaluation points and the initial voltages")
	f.IntVar(&c.PreNeurons, "pre-neurons", c.PreNeurons, "neurons of ensemble pre")
	f.IntVar(&c.PostNeurons, "post-neurons", c.PostNeurons, "neurons of ensemble post")
	f.IntVar(&c.Dimensions, "dimensions", c.Dimensions, "dimensions of the input and both ensembles")
	f.Float64Var(&c.LearningRate, "learning-rate", c.LearningRate, "PES learning rate (Nengo's learning_rate)")
	f.Float64Var(&c.Dt, "dt", c.Dt, "time step (s)")
	f.Float64Var(&c.PreTau, "pre-tau", c.PreTau, "PES pre synapse (s)")
	f.Float64Var(&c.SynapseTau, "synapse-tau", c.SynapseTau, "synapse of every connection (s)")
	f.Float64Var(&opts.Duration, "duration", opts.Duration, "seconds of learning")
	f.Float64Var(&opts.TestDuration, "test-duration", opts.TestDuration, "seconds of the test run with learning off")
	f.Float64Var(&opts.Settle, "settle", opts.Settle, "seconds at the start of the test run left out of its RMSE")
	f.Float64Var(&opts.Freq, "freq", opts.Freq, "input frequency (Hz)")
	f.StringVar(&opts.Save, "save", "", "write the learned weights and ensembles here (.safetensors)")
	f.StringVar(&opts.Load, "load", "", "run this saved network with learning off instead of learning")
	f.BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
	return cmd
}

func runLearnPES(opts *LearnPESOptions) error {
	res, err := workflow.LearnPES(opts.PESOptions)
	if err != nil {
		return flagErr(err)
	}
	return printResult(opts.IO, opts.JSON, res, res.WriteText)
}
