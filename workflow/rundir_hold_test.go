package workflow

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

// Release removes a directory its hold created only while the job left it
// empty; a nested hold (a pipeline's stage in the pipeline's directory)
// created nothing and removes nothing.
func TestHoldRunDir(t *testing.T) {
	for _, write := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "run")
		hold, err := HoldRunDir(formats.NamedPath{Label: "dir", Path: dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		nested, err := HoldRunDir(formats.NamedPath{Label: "dir", Path: dir}, nil)
		if err != nil {
			t.Fatalf("nested hold of %s: %v", dir, err)
		}
		nested.Release()
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("after the nested hold's Release: %v", err)
		}
		if write {
			if err := os.WriteFile(filepath.Join(dir, DQNModelFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		hold.Release()
		if _, err := os.Stat(dir); (err == nil) != write {
			t.Fatalf("after Release (a file written: %v): stat %s: %v", write, dir, err)
		}
		again, err := HoldRunDir(formats.NamedPath{Label: "dir", Path: dir}, nil)
		if err != nil {
			t.Fatalf("hold after Release: %v", err)
		}
		again.Release()
	}
	var none *RunDirHold
	none.Release()
}
