package main

import "github.com/spf13/cobra"

// NewCmdLearn is the parent of the online-learning verbs (`learn pes`):
// rules that learn inside a running spiking network.
func NewCmdLearn(ios *IOStreams) *cobra.Command {
	return newParentCmd("learn", "Learn online inside a running spiking network (PES, FOLLOW)",
		NewCmdLearnPES(ios, nil), NewCmdLearnFollow(ios, nil))
}
