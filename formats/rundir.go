package formats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A run directory is a directory a verb writes several files into (a
// training run, a comparison, a pipeline). Only one process may write into
// it at a time: LockRunDir takes an exclusive flock on the directory itself
// and, while it holds it, records its process id in RunLockFile inside, so
// a second run fails at once with a message that names the directory and
// the holder. The lock is released by Unlock (which removes RunLockFile) or
// when the process ends, however it ends (the kernel drops the flock of a
// dead process), so a killed run never leaves a stale lock behind; at most
// a stale RunLockFile, which only informs and the next holder overwrites.

// RunLockFile names the file inside a locked run directory that holds the
// holder's process id.
const RunLockFile = ".spikebridge.lock"

// ErrRunDirBusy is wrapped by the error of a run directory held by another
// process.
var ErrRunDirBusy = errors.New("run directory is in use")

// RunDirBusyError says which process holds a run directory.
type RunDirBusyError struct {
	Dir string
	PID int // 0 when the holder's id could not be read
}

func (e *RunDirBusyError) Error() string {
	holder := "another process"
	if e.PID > 0 {
		holder = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("%s is in use by %s (lock %s); wait for it to finish or stop it", e.Dir, holder, filepath.Join(e.Dir, RunLockFile))
}

func (e *RunDirBusyError) Unwrap() error { return ErrRunDirBusy }

// RunDirLock is a held run-directory lock.
type RunDirLock struct {
	key string
}

// runLocks counts this process's holds per directory, so nested verbs (a
// pipeline that runs train dqn in the same directory) can lock it again.
var runLocks = struct {
	sync.Mutex
	held map[string]*heldLock
}{held: map[string]*heldLock{}}

type heldLock struct {
	f       *os.File // the directory, flocked
	pidFile string
	count   int
}

// LockRunDir creates dir (and its parents) if needed and locks it for this
// process. A directory held by another process gives a *RunDirBusyError.
func LockRunDir(dir string) (*RunDirLock, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("formats: %s exists and is not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("formats: run directory: %w", err)
	}
	key, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", dir, err)
	}
	if real, err := filepath.EvalSymlinks(key); err == nil {
		key = real
	}
	runLocks.Lock()
	defer runLocks.Unlock()
	if h, ok := runLocks.held[key]; ok {
		h.count++
		return &RunDirLock{key: key}, nil
	}
	path := filepath.Join(dir, RunLockFile)
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &RunDirBusyError{Dir: dir, PID: readLockPID(path)}
		}
		return nil, fmt.Errorf("formats: %s: lock: %w", dir, err)
	}
	// The holder's id, for the message another process shows (a symlink or
	// other odd file there is left alone).
	if st, err := os.Lstat(path); err != nil || st.Mode().IsRegular() {
		_ = os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	}
	runLocks.held[key] = &heldLock{f: f, pidFile: path, count: 1}
	return &RunDirLock{key: key}, nil
}

// Unlock releases the lock (once per LockRunDir). It is safe on nil.
func (l *RunDirLock) Unlock() {
	if l == nil || l.key == "" {
		return
	}
	runLocks.Lock()
	defer runLocks.Unlock()
	key := l.key
	l.key = ""
	h, ok := runLocks.held[key]
	if !ok {
		return
	}
	if h.count--; h.count > 0 {
		return
	}
	delete(runLocks.held, key)
	if readLockPID(h.pidFile) == os.Getpid() {
		_ = os.Remove(h.pidFile)
	}
	_ = syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
	_ = h.f.Close()
}

func readLockPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}
