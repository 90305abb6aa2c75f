// Package testfixtures locates the shared test data for every package's tests:
// $SPIKEBRIDGE_FIXTURES when set, else ../shared/fixtures beside the module
// root (the directory holding go.mod), as ../shared/fixtures/README.md says.
package testfixtures

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the fixtures root joined with elem.
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	if root := os.Getenv("SPIKEBRIDGE_FIXTURES"); root != "" {
		return filepath.Join(append([]string{root}, elem...)...)
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(append([]string{dir, "..", "shared", "fixtures"}, elem...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testfixtures: no go.mod above the test directory; set SPIKEBRIDGE_FIXTURES")
		}
		dir = parent
	}
}
