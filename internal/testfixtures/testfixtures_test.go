package testfixtures

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SPIKEBRIDGE_FIXTURES", dir)
	if got := Dir(t, "policies", "x.pt"); got != filepath.Join(dir, "policies", "x.pt") {
		t.Errorf("Dir = %s, want it under %s", got, dir)
	}
	missing := filepath.Join(dir, "absent")
	t.Setenv("SPIKEBRIDGE_FIXTURES", missing)
	if Root(t) != missing {
		t.Errorf("Root = %s, want %s", Root(t), missing)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("the missing root exists")
	}
}
