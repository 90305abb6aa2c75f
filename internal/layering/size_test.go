package layering

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The size limits of issue 18: no file outside generated code over
// maxFileLines lines, no function or method over maxFuncLines lines (from
// its func line to its closing brace), and cmd/spikebridge at most
// maxCmdLines lines without tests. Tests (table-driven ones included) and
// generated code are not counted.
const (
	maxFileLines = 500
	maxFuncLines = 80
	maxCmdLines  = 2500
)

// sizeExceptions are the files ("path") and functions ("path:Func" or
// "path:Type.Method") allowed over the limits, each with the reason. The
// test fails when an exception is no longer over its limit, so the list
// stays true.
var sizeExceptions = map[string]string{}

// knownSizeViolations are violations still in the tree, each with the work
// that removes it. A key ending in "/" covers every file and function below
// that directory. Like sizeExceptions, an entry that no longer matches a
// violation fails the test.
var knownSizeViolations = map[string]string{}

// moduleRoot is the directory holding go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// sourceFiles lists the module's non-test .go and assembly files,
// relative to root with forward slashes, skipping testdata and hidden
// directories.
func sourceFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".s") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// generatedAsm is the header of generated assembly (golang.org/s/generatedcode).
var generatedAsm = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

// sizeReport measures one file: its line count (0 when generated) and the
// functions over maxFuncLines, keyed "path:Func" or "path:Type.Method".
type sizeReport struct {
	lines     int
	generated bool
	longFuncs map[string]int
}

func measureFile(fset *token.FileSet, root, rel string) (sizeReport, error) {
	src, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return sizeReport{}, err
	}
	if strings.HasSuffix(rel, ".s") {
		return sizeReport{lines: bytes.Count(src, []byte("\n")), generated: generatedAsm.Match(src)}, nil
	}
	f, err := parser.ParseFile(fset, rel, src, parser.ParseComments)
	if err != nil {
		return sizeReport{}, err
	}
	rep := sizeReport{lines: fset.File(f.Pos()).LineCount(), longFuncs: map[string]int{}}
	if ast.IsGenerated(f) {
		rep.generated = true
		return rep, nil
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
		if n > maxFuncLines {
			rep.longFuncs[rel+":"+funcName(fn)] = n
		}
	}
	return rep, nil
}

// funcName is Func for a function and Type.Method for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
			continue
		case *ast.IndexExpr:
			typ = x.X
			continue
		case *ast.IndexListExpr:
			typ = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

func TestSizes(t *testing.T) {
	root := moduleRoot(t)
	fset := token.NewFileSet()
	over := map[string]string{} // key -> what is over
	cmdLines := 0
	files := sourceFiles(t, root)
	if len(files) < 50 {
		t.Fatalf("found %d Go files under %s: not the module", len(files), root)
	}
	for _, rel := range files {
		rep, err := measureFile(fset, root, rel)
		if err != nil {
			t.Fatal(err)
		}
		if rep.generated {
			continue
		}
		if strings.HasPrefix(rel, "cmd/spikebridge/") {
			cmdLines += rep.lines
		}
		if rep.lines > maxFileLines {
			over[rel] = fmt.Sprintf("%d lines (limit %d)", rep.lines, maxFileLines)
		}
		for key, n := range rep.longFuncs {
			over[key] = fmt.Sprintf("%d lines (limit %d)", n, maxFuncLines)
		}
	}
	if cmdLines > maxCmdLines {
		over["cmd/spikebridge"] = fmt.Sprintf("%d lines without tests (limit %d)", cmdLines, maxCmdLines)
	}
	t.Logf("cmd/spikebridge: %d lines without tests", cmdLines)
	checkListed(t, over)
}

// checkListed fails for every entry of over that neither list names and
// for every listed entry no longer over its limit, and logs the listed ones.
func checkListed(t *testing.T, over map[string]string) {
	t.Helper()
	matched := map[string]bool{}
	keys := make([]string, 0, len(over))
	for k := range over {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if why, ok := sizeExceptions[k]; ok {
			t.Logf("exception %s: %s: %s", k, over[k], why)
			continue
		}
		if entry, ok := knownEntry(k); ok {
			matched[entry] = true
			t.Logf("known violation %s: %s: %s", k, over[k], knownSizeViolations[entry])
			continue
		}
		t.Errorf("%s: %s", k, over[k])
	}
	for k, why := range sizeExceptions {
		if _, ok := over[k]; !ok {
			t.Errorf("exception %s (%s) is no longer over its limit: remove it from sizeExceptions", k, why)
		}
	}
	for k, why := range knownSizeViolations {
		if !matched[k] {
			t.Errorf("known violation %s (%s) is gone: remove it from knownSizeViolations", k, why)
		}
	}
}

// knownEntry is the knownSizeViolations key that covers violation k: k
// itself, or the longest directory key ("dir/") above it.
func knownEntry(k string) (string, bool) {
	if _, ok := knownSizeViolations[k]; ok {
		return k, true
	}
	best := ""
	for entry := range knownSizeViolations {
		if strings.HasSuffix(entry, "/") && strings.HasPrefix(k, entry) && len(entry) > len(best) {
			best = entry
		}
	}
	return best, best != ""
}

// The measure counts a function from its func line to its closing brace,
// names methods by their receiver type, and recognises generated files.
func TestMeasureFile(t *testing.T) {
	dir := t.TempDir()
	// func line, x := 0, n lines, _ = x, closing brace: n+4 lines
	fn := func(head string, n int) string {
		return head + " {\n\tx := 0\n" + strings.Repeat("\tx++\n", n) + "\t_ = x\n}\n\n"
	}
	src := "package p\n\ntype T[E any] struct{}\n\n" + fn("func fits()", maxFuncLines-4) + fn("func (t *T[E]) long()", maxFuncLines-3)
	if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := "// Code generated by asmgen.py. DO NOT EDIT.\n\npackage p\n\nfunc g() {\n" + strings.Repeat("\tprintln()\n", 600) + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "g.go"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	rep, err := measureFile(fset, dir, "a.go")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a.go:T.long": maxFuncLines + 1}
	if fmt.Sprint(rep.longFuncs) != fmt.Sprint(want) || rep.generated {
		t.Errorf("a.go: long functions %v generated %v, want %v and false", rep.longFuncs, rep.generated, want)
	}
	if wantLines := strings.Count(src, "\n"); rep.lines != wantLines {
		t.Errorf("a.go: %d lines, want %d", rep.lines, wantLines)
	}
	asm := "#include \"textflag.h\"\n" + strings.Repeat("\tRET\n", 600)
	if err := os.WriteFile(filepath.Join(dir, "h_amd64.s"), []byte(asm), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "g_amd64.s"), []byte("// Code generated by asmgen.py; DO NOT EDIT.\n\n"+asm), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, wantGenerated := range map[string]bool{"g.go": true, "h_amd64.s": false, "g_amd64.s": true} {
		rep, err = measureFile(fset, dir, name)
		if err != nil {
			t.Fatal(err)
		}
		if rep.generated != wantGenerated {
			t.Errorf("%s: generated = %v, want %v", name, rep.generated, wantGenerated)
		}
	}
}
