package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/train"
)

// NewCmdTrain is the parent of the training verbs (train dqn, sqn,
// classifier, emulator, ...): each is one argument here.
func NewCmdTrain(ios *IOStreams) *cobra.Command {
	return newParentCmd("train", "Train networks (DQN on CartPole, ...)", NewCmdTrainDQN(ios, nil), NewCmdTrainClassifier(ios, nil),
		NewCmdTrainSQN(ios, nil), NewCmdTrainEmulator(ios, nil), NewCmdTrainEprop(ios, nil))
}

// newParentCmd is a verb that only holds subcommands (train, learn,
// import): run alone, it is a usage error that names them.
func newParentCmd(use, short string, subcommands ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("%s needs a subcommand: %s", use, subcommandNames(cmd))
		},
	}
	cmd.AddCommand(subcommands...)
	return cmd
}

func subcommandNames(cmd *cobra.Command) string {
	var names []string
	for _, c := range cmd.Commands() {
		names = append(names, c.Name())
	}
	return strings.Join(names, ", ")
}

// flagError maps a training setting that cannot work to its flag (a usage
// error); other errors stay usage errors as they are.
func flagError(err error) error {
	var se *train.SettingError
	if errors.As(err, &se) {
		return usageErrorf("--%s %s", strings.ReplaceAll(se.Setting, "_", "-"), se.Problem)
	}
	return usageError{err}
}
