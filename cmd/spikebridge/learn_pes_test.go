package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/workflow"
)

// learn pes --save then --load: the reloaded network's test RMSE is the
// learned one's exactly, and learning beats the untrained network.
func TestLearnPESSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pes.safetensors")
	code, out, errOut := runCLI(t, "learn", "pes", "--seed", "0", "--duration", "3", "--save", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var learned workflow.PESResult
	if err := json.Unmarshal([]byte(out), &learned); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	code, out, errOut = runCLI(t, "learn", "pes", "--load", path, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var loaded workflow.PESResult
	if err := json.Unmarshal([]byte(out), &loaded); err != nil {
		t.Fatal(err)
	}
	if loaded.TestRMSE != learned.TestRMSE || loaded.TestSteps != learned.TestSteps {
		t.Errorf("reloaded test RMSE %v over %d steps, learned %v over %d", loaded.TestRMSE, loaded.TestSteps, learned.TestRMSE, learned.TestSteps)
	}
	if !(learned.TestRMSE < learned.UntrainedRMSE/3) {
		t.Errorf("test RMSE %v, untrained %v", learned.TestRMSE, learned.UntrainedRMSE)
	}
}

func TestLearnPESBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"learn", "pes", "--duration", "-1"}, 2, "--duration"},
		{[]string{"learn", "pes", "--pre-neurons", "0"}, 2, "pre neurons"},
		{[]string{"learn", "pes", "--load", filepath.Join(dir, "missing.safetensors")}, 1, "missing.safetensors"},
		{[]string{"learn", "pes", "--config", filepath.Join(dir, "missing.json")}, 1, "missing.json"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d naming %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
