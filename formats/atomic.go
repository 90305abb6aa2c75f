package formats

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// WriteFileAtomic writes a file so that readers see either the old content or
// the complete new content, never a half-written file: write calls go to a
// temporary file in the target's directory, which is synced, closed and then
// renamed over path. On any error the temporary file is removed and an
// existing file at path is left untouched.
//
// The output rule's file checks apply (see output.go): an existing path that
// is not a regular file is refused, a symlink is written through (the file
// it points at is replaced, the link stays). An existing file keeps its
// permission bits; a new one gets 0644.
//
// The path "-" is standard output where the caller set one (SetStdout).
//
// Temporary files are named ".<base>.tmp-<pid>-<random>". While they exist
// they are registered, so a signal handler can remove them
// (RemoveTempFiles); one left behind by a killed process (kill -9) is removed
// by the next write to the same path once its process is gone.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	if path == StdoutPath {
		return writeStdout(write)
	}
	target, err := resolveOutput(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(target); err == nil {
		perm = st.Mode().Perm()
	}
	removeStaleTemps(dir, base)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("formats: %s: create temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	liveTemps.add(tmpName)
	defer liveTemps.remove(tmpName)
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
	if err := os.Chmod(tmpName, perm); err != nil {
		return fmt.Errorf("formats: %s: chmod: %w", path, err)
	}
	if err := os.Rename(tmpName, target); err != nil {
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

// saveEncoded writes the bytes of an encoded file to path atomically, or
// returns the encoder's error encErr naming path.
func saveEncoded(path string, data []byte, encErr error) error {
	if encErr != nil {
		return fmt.Errorf("formats: %s: %w", path, encErr)
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func tempPrefix(base string) string { return "." + base + ".tmp-" }

// tempRegistry holds the temporary files being written by this process.
type tempRegistry struct {
	mu    sync.Mutex
	files map[string]struct{}
}

var liveTemps = &tempRegistry{files: map[string]struct{}{}}

func (r *tempRegistry) add(name string) {
	r.mu.Lock()
	r.files[name] = struct{}{}
	r.mu.Unlock()
}

func (r *tempRegistry) remove(name string) {
	r.mu.Lock()
	delete(r.files, name)
	r.mu.Unlock()
}

// RemoveTempFiles removes every temporary file this process is writing;
// signal handlers call it before the process exits. It returns how many
// it removed.
func RemoveTempFiles() int {
	liveTemps.mu.Lock()
	defer liveTemps.mu.Unlock()
	n := 0
	for name := range liveTemps.files {
		if os.Remove(name) == nil {
			n++
		}
		delete(liveTemps.files, name)
	}
	return n
}

// removeStaleTemps removes temporary files of base in dir whose writer
// process no longer exists (killed with SIGKILL or by a crash). A file whose
// process id cannot be read, or whose process is alive, is left alone.
func removeStaleTemps(dir, base string) {
	matches, err := filepath.Glob(filepath.Join(dir, globEscape(tempPrefix(base))+"*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), tempPrefix(base))
		pidText, _, ok := strings.Cut(rest, "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if processGone(pid) {
			_ = os.Remove(m)
		}
	}
}

// processGone reports whether no process with this id runs: none exists,
// or it is a zombie (killed, not yet reaped by its parent).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z' || stat[i+2] == 'X'
	}
	return false
}

// globEscape quotes the glob metacharacters of a file name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
