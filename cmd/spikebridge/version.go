package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Version is the release this binary reports; set with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

// VersionOptions holds the flags of `spikebridge version`.
type VersionOptions struct {
	IO *IOStreams
}

// NewCmdVersion parses flags into VersionOptions; runF replaces runVersion in tests.
func NewCmdVersion(ios *IOStreams, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{IO: ios}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the spikebridge version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerb(runF, runVersion, opts)
		},
	}
}

func runVersion(opts *VersionOptions) error {
	commit := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	_, err := fmt.Fprintf(opts.IO.Out, "spikebridge %s (commit %s, %s %s/%s)\n",
		Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
