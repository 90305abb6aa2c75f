package formats

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes a file so that readers see either the old content or
// the complete new content, never a half-written file: write calls go to a
// temporary file in the target's directory, which is synced, closed and then
// renamed over path. On any error the temporary file is removed and an
// existing file at path is left untouched.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("formats: %s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close() // may already be closed; the first error is the one to report
			_ = os.Remove(tmpName)
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("formats: %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("formats: %s: sync: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("formats: %s: close: %w", path, err)
	}
	// CreateTemp makes the file 0600; model and data files are ordinary files.
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return fmt.Errorf("formats: %s: chmod: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("formats: %s: rename: %w", path, err)
	}
	// Sync the directory so the rename itself survives a crash; not every
	// file system supports it, so a failure here is not an error.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
