package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spikebridge/spikebridge/train"
)

// NewCmdTrain is the parent of the training verbs (train dqn, sqn,
// classifier, emulator, ...): each adds one AddCommand line here.
func NewCmdTrain(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train networks (DQN on CartPole, ...)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("train needs a subcommand: %s", subcommandNames(cmd))
		},
	}
	cmd.AddCommand(NewCmdTrainDQN(ios, nil))
	cmd.AddCommand(NewCmdTrainClassifier(ios, nil))
	cmd.AddCommand(NewCmdTrainSQN(ios, nil))
	cmd.AddCommand(NewCmdTrainEmulator(ios, nil))
	cmd.AddCommand(NewCmdTrainEprop(ios, nil))
	return cmd
}

func subcommandNames(cmd *cobra.Command) string {
	names := ""
	for i, c := range cmd.Commands() {
		if i > 0 {
			names += ", "
		}
		names += c.Name()
	}
	return names
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
