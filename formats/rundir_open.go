package formats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// RunDirError refuses a run directory before anything is written: it is
// not a directory, it is an input, or it holds an input under a name the
// run writes.
type RunDirError struct{ Msg string }

func (e *RunDirError) Error() string { return e.Msg }

// OpenRunDir checks the run directory dir against the output rule and
// locks it (LockRunDir). inputs are the files the run reads; writes says
// whether the run writes a file of that name into dir. An input inside dir
// under such a name, or a file there of such a name that may not be
// replaced (a device, a FIFO, a link to an input), is refused. created
// reports that dir did not exist before. Refusals are *RunDirError or
// *OutputError; a directory held by another run, *RunDirBusyError.
func OpenRunDir(dir NamedPath, inputs []NamedPath, writes func(name string) bool) (lock *RunDirLock, created bool, err error) {
	if st, err := os.Stat(dir.Path); err == nil && !st.IsDir() {
		return nil, false, &RunDirError{fmt.Sprintf("%s %s exists and is not a directory", dir.Label, dir.Path)}
	}
	for _, in := range inputs {
		st, err := os.Stat(in.Path)
		if err != nil {
			continue
		}
		if st.IsDir() {
			if sameFile(dir.Path, in.Path) {
				return nil, false, &RunDirError{fmt.Sprintf("%s %s is the directory %s %s names as input", dir.Label, dir.Path, in.Label, in.Path)}
			}
			continue
		}
		// An input inside dir under a name the run writes (fine-tuning
		// DIR/model.safetensors into DIR) would be overwritten.
		if sameFile(dir.Path, filepath.Dir(in.Path)) && writes(filepath.Base(in.Path)) {
			return nil, false, &RunDirError{fmt.Sprintf("%s %s lies in %s %s, where this run writes %s: refusing to overwrite an input (copy it elsewhere or choose another %s)",
				in.Label, in.Path, dir.Label, dir.Path, filepath.Base(in.Path), dir.Label)}
		}
	}
	// The files the run will replace: none may be a device, a FIFO or a
	// link to an input.
	if entries, err := os.ReadDir(dir.Path); err == nil {
		var outs []NamedPath
		for _, e := range entries {
			if writes(e.Name()) {
				outs = append(outs, NamedPath{Label: dir.Label, Path: filepath.Join(dir.Path, e.Name())})
			}
		}
		if err := CheckOutputs(outs, inputs); err != nil {
			return nil, false, err
		}
	}
	_, statErr := os.Stat(dir.Path)
	lock, err = LockRunDir(dir.Path)
	return lock, errors.Is(statErr, os.ErrNotExist), err
}

func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// ExistingInputPath returns the file an argument names when it exists
// ("FILE.npz:array" names FILE.npz), or "" when it names none.
func ExistingInputPath(v string) string {
	if v == "" || v == StdoutPath {
		return ""
	}
	if _, err := os.Stat(v); err == nil {
		return v
	}
	if i := strings.LastIndex(v, ":"); i > 0 {
		if _, err := os.Stat(v[:i]); err == nil {
			return v[:i]
		}
	}
	return ""
}
