package layering

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/spikebridge/spikebridge/"

// allowed is DESIGN.md's package table: the module's packages each one
// may import (its own sub-packages and internal/ helpers aside). One
// deviation: emulator imports convert, because a spiking forward model is
// convert's unit-scale conversion run on snn/ and eval-emulator scores a
// rate emulator's converted SNN; convert never imports emulator. It also
// imports env, a lower tier, for the reference free runs of the true system.
var allowed = map[string][]string{
	"model":    {},
	"env":      {},
	"snn":      {"model"},
	"nef":      {},
	"replay":   {},
	"probe":    {"formats"},
	"formats":  {"model", "snn"},
	"train":    {"model", "snn", "env", "replay", "probe", "emulator", "formats"},
	"learn":    {"snn", "nef", "env"},
	"emulator": {"model", "snn", "probe", "formats", "convert", "env"},
	"convert":  {"model", "snn", "env", "replay"},
	"export":   {"model", "snn", "formats"},
	"report":   {},
	// workflow is not in DESIGN.md's table: the file-to-file jobs behind
	// the verbs (run directories, checkpoints, the pipeline), one tier
	// above the domain packages and below cmd.
	"workflow": {"train", "learn", "convert", "export", "emulator", "report", "formats", "probe", "replay", "model", "snn", "nef", "env"},
	"cmd":      nil, // everything
	"bench":    nil, // benchmark drivers, like cmd
	"internal": nil, // test helpers and cross-checks
}

// testAllowed are the module packages any test may also import: fixtures
// are read through formats.
var testAllowed = []string{"formats", "internal/testfixtures"}

// tier is DESIGN.md's arrow order, cmd -> (train, learn, convert, export,
// emulator, report) -> (formats, probe, replay) -> (model, snn, nef, env):
// a test may also import any package of a lower tier (cross-checks).
var tier = map[string]int{"model": 0, "snn": 0, "nef": 0, "env": 0, "formats": 1, "probe": 1, "replay": 1,
	"train": 2, "learn": 2, "convert": 2, "export": 2, "emulator": 2, "report": 2, "workflow": 3}

// external are third-party modules (by path prefix) and the only top-level
// packages that may import them.
var external = map[string][]string{
	"gorgonia.org/":                {"train"}, // Gorgonia only in train/
	"github.com/chewxy/":           {"train"},
	"gonum.org/v1/plot":            {"report"},
	"github.com/spf13/":            {"cmd"},
	"github.com/schollz/":          {"cmd"},
	"github.com/nlpodyssey/":       {"formats"},
	"gonum.org/v1/gonum":           {"nef", "train"},
	"github.com/sbinet/npyio":      {"formats", "bench"},
	"golang.org/x/sys/cpu":         {"model", "snn", "train"},
	"golang.org/x/term":            {"cmd", "formats"},
	"github.com/spikebridge/spike": nil, // the module itself: checked above
}

// knownViolations are imports DESIGN.md does not allow that are still in
// the tree, each with the work that removes it. The test fails when one
// disappears, so the list stays true.
var knownViolations = map[string]string{}

// top is the table row of an import path inside the module.
func top(pkg string) string {
	rel := strings.TrimPrefix(pkg, module)
	if strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "internal/") || strings.HasPrefix(rel, "bench/") {
		return rel[:strings.Index(rel, "/")]
	}
	if i := strings.Index(rel, "/"); i >= 0 {
		return rel[:i] // formats/hdf5 is formats
	}
	return rel
}

type listed struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func TestImportsFollowDesign(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command("go", "list", "-e", "-json", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	seen := map[string]bool{}
	var bad []string
	packages := 0
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		packages++
		from := top(p.ImportPath)
		rule, ok := allowed[from]
		if !ok {
			bad = append(bad, p.ImportPath+": not in DESIGN.md's table")
			continue
		}
		check := func(imp string, test bool) {
			if strings.HasPrefix(imp, module) {
				to := top(imp)
				if rule == nil || to == from || to == "internal" || contains(rule, to) ||
					test && (contains(testAllowed, strings.TrimPrefix(imp, module)) || contains(testAllowed, to) || lower(to, from)) {
					return
				}
				edge := from + " -> " + to
				if _, known := knownViolations[edge]; known {
					seen[edge] = true
					return
				}
				kind := ""
				if test {
					kind = " (test)"
				}
				bad = append(bad, p.ImportPath+kind+" imports "+imp)
				return
			}
			for prefix, who := range external {
				if test && prefix == "github.com/sbinet/npyio" {
					continue // tests read .npz fixtures directly
				}
				if strings.HasPrefix(imp, prefix) && who != nil && !contains(who, from) {
					bad = append(bad, p.ImportPath+" imports "+imp+", allowed only in "+strings.Join(who, ", "))
				}
			}
		}
		for _, imp := range p.Imports {
			check(imp, false)
		}
		for _, imp := range append(p.TestImports, p.XTestImports...) {
			check(imp, true)
		}
	}
	if packages < 10 {
		t.Fatalf("go list named %d packages: not the module", packages)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	for edge, why := range knownViolations {
		if !seen[edge] {
			t.Errorf("known violation %q is gone (%s): remove it from knownViolations", edge, why)
		}
	}
}

// lower reports whether package to sits in a lower tier than from.
func lower(to, from string) bool {
	t, ok1 := tier[to]
	f, ok2 := tier[from]
	return ok1 && ok2 && t < f
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The table rejects what DESIGN.md forbids: convert importing train and a
// low package importing a high one.
func TestTopAndTable(t *testing.T) {
	for pkg, want := range map[string]string{module + "formats/hdf5": "formats", module + "cmd/spikebridge": "cmd",
		module + "internal/testfixtures": "internal", module + "train": "train"} {
		if got := top(pkg); got != want {
			t.Errorf("top(%s) = %s, want %s", pkg, got, want)
		}
	}
	if contains(allowed["convert"], "train") || contains(allowed["model"], "snn") || contains(allowed["emulator"], "train") {
		t.Error("the table allows an import DESIGN.md forbids")
	}
}
