package workflow

import "testing"

// TestRunDirWrites: the files the run verbs write (as named in their
// --help and the fixtures' run directories) and a few they never write.
func TestRunDirWrites(t *testing.T) {
	for _, name := range []string{"model.safetensors", "final.safetensors", "checkpoint.bin", "config.json", "metrics.csv",
		"model.snn.safetensors", "final.snn.safetensors", "model.eprop.safetensors", "checkpoint.npz", "compare.json",
		"compare.csv", "report.md", "states.npz", "student-distill.safetensors", "snn-baseline.safetensors", "learning_curve.png"} {
		if !RunDirWrites(name) {
			t.Errorf("%s: not listed", name)
		}
	}
	for _, name := range []string{"notes.txt", "policy.pt", "snn-baseline.npz", "data.npz", "model.safetensors.bak"} {
		if RunDirWrites(name) {
			t.Errorf("%s: listed", name)
		}
	}
}
