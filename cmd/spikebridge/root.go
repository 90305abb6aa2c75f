package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/formats"
)

// IOStreams carries the streams a command reads and writes, so verbs are
// testable without touching the process's own.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// usageError marks a command-line mistake (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(ios *IOStreams) *cobra.Command {
	return newCmdRoot(ios, &guardState{})
}

// newCmdRoot builds the tree with guard receiving what guardCommand holds
// for the running verb (a run-directory lock), for execute to release.
func newCmdRoot(ios *IOStreams, guard *guardState) *cobra.Command {
	root := &cobra.Command{
		Use:           "spikebridge",
		Short:         "Train, import and convert neural networks into spiking networks, and compare the agents",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().String("max-memory", "",
		"most memory a verb may plan to use, e.g. 8GiB (default: half of the RAM or cgroup limit); also the read budget of compressed .npz/.pt members")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		return guardCommand(ios, cmd, args, guard)
	}

	root.AddCommand(
		NewCmdVersion(ios, nil), NewCmdEnv(ios), NewCmdInspect(ios, nil), NewCmdPredict(ios, nil), NewCmdEval(ios, nil),
		NewCmdTrain(ios), NewCmdRecord(ios, nil), NewCmdConvert(ios, nil), NewCmdCompare(ios, nil), NewCmdImport(ios),
		NewCmdExport(ios, nil), NewCmdProbe(ios), NewCmdEvalEmulator(ios, nil), NewCmdPipeline(ios, nil), NewCmdLearn(ios),
	)
	documentMaxima(root)
	return root
}

// execute runs the CLI and maps errors to exit codes: 0 ok, 1 failure, 2 usage.
func execute(args []string, in io.Reader, out, errOut io.Writer) int {
	ios := &IOStreams{In: in, Out: out, ErrOut: errOut}
	guard := &guardState{}
	root := newCmdRoot(ios, guard)
	root.SetArgs(args)
	err := root.Execute()
	guard.release()
	formats.SetStdout(nil)
	if err == nil {
		return 0
	}
	var budget *formats.BudgetError
	if errors.As(err, &budget) {
		err = fmt.Errorf("%w (raise --max-memory if the file is genuine)", err)
	}
	fmt.Fprintln(errOut, "spikebridge:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		return 2
	}
	return 1
}

// isCobraUsageError recognises cobra's own argument errors, which are plain.
func isCobraUsageError(err error) bool {
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}
