package workflow

import "strings"

// RunDirWrites reports whether a job that writes a run directory (train
// dqn, sqn, emulator and eprop, compare, the pipeline) may write a file of
// this name into it. Before such a run starts, the CLI holds every file of
// these names already in the directory to the output rule, and refuses an
// input that lies there under one of them.
func RunDirWrites(name string) bool {
	switch name {
	case DQNModelFile, DQNFinalFile, DQNCheckpointFile, DQNConfigFile, DQNMetricsFile,
		SQNModelFile, SQNFinalFile, EpropModelFile, EpropCheckpointFile,
		CompareJSONFile, CompareCSVFile, PipelineReportFile, PipelineStatesFile, PipelineStudentFile:
		return true
	}
	return strings.HasSuffix(name, ".png") || strings.HasPrefix(name, "snn-") && strings.HasSuffix(name, ".safetensors")
}
