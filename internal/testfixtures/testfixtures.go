// Package testfixtures locates the shared test data for every package's tests:
// $SPIKEBRIDGE_FIXTURES when set, else ../shared/fixtures beside the module
// root (the directory holding go.mod), as ../shared/fixtures/README.md says.
// It also builds the seeded random MLPs tests run (RandomMLP, mlp.go).
package testfixtures

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the fixtures root joined with elem. A root that does not
// exist fails the test with its path and how to set it, rather than every
// fixture failing later with a bare "no such file".
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	root := Root(t)
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("testfixtures: fixture root %s: %v (set SPIKEBRIDGE_FIXTURES to the fixtures directory, see ../shared/fixtures/README.md)", root, err)
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// Root returns the fixtures root, existing or not.
func Root(t testing.TB) string {
	t.Helper()
	if root := os.Getenv("SPIKEBRIDGE_FIXTURES"); root != "" {
		return root
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "fixtures")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testfixtures: no go.mod above the test directory; set SPIKEBRIDGE_FIXTURES")
		}
		dir = parent
	}
}
