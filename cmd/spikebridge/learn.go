package main

import "github.com/spf13/cobra"

// NewCmdLearn is the parent of the online-learning verbs (`learn pes`):
// rules that learn inside a running spiking network.
func NewCmdLearn(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "learn",
		Short: "Learn online inside a running spiking network (PES, FOLLOW)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("learn needs a subcommand: %s", subcommandNames(cmd))
		},
	}
	cmd.AddCommand(NewCmdLearnPES(ios, nil))
	cmd.AddCommand(NewCmdLearnFollow(ios, nil))
	return cmd
}
