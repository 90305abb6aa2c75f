package env

import (
	"github.com/spikebridge/spikebridge/internal/testfixtures"

	"encoding/json"
	"os"
	"strconv"
	"testing"
)

// fixturesDir is $SPIKEBRIDGE_FIXTURES, or ../shared/fixtures next to the module root.
func fixturesDir(t testing.TB) string {
	return testfixtures.Dir(t)
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// parseHex parses a float64 written by Python's float.hex().
func parseHex(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return v
}
