package formats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenRunDir(t *testing.T) {
	root := t.TempDir()
	writes := func(name string) bool { return name == "model.safetensors" }
	file := filepath.Join(root, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, _, err := OpenRunDir(NamedPath{"--out", file}, nil, writes); !isRunDirError(err, "--out "+file+" exists and is not a directory") {
		t.Errorf("a file as run directory: %v", err)
	}
	run := filepath.Join(root, "run")
	os.Mkdir(run, 0o755)
	init := NamedPath{"--init", filepath.Join(run, "model.safetensors")}
	os.WriteFile(init.Path, []byte("x"), 0o644)
	if _, _, err := OpenRunDir(NamedPath{"--out", run}, []NamedPath{init}, writes); !isRunDirError(err, "where this run writes model.safetensors") {
		t.Errorf("an input the run would overwrite: %v", err)
	}
	if _, _, err := OpenRunDir(NamedPath{"--out", run}, []NamedPath{{"--data", run}}, writes); !isRunDirError(err, "is the directory --data") {
		t.Errorf("the run directory as input: %v", err)
	}
	fresh := filepath.Join(root, "a", "b")
	lock, created, err := OpenRunDir(NamedPath{"--out", fresh}, []NamedPath{init}, writes)
	if err != nil || !created || lock == nil {
		t.Fatalf("fresh directory: lock %v, created %v, %v", lock, created, err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(filepath.Join(fresh, RunLockFile)); err != nil {
		t.Errorf("no lock file: %v", err)
	}
	if _, created, _ := OpenRunDir(NamedPath{"--out", run}, nil, writes); created {
		t.Error("an existing directory reported as created")
	}
}

func isRunDirError(err error, want string) bool {
	var re *RunDirError
	return errors.As(err, &re) && strings.Contains(err.Error(), want)
}
