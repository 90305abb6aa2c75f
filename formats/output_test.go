package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestWriteFileAtomicRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, what string }{
		{"/dev/null", "a character device"}, {fifo, "a FIFO"}, {sub, "a directory"},
	} {
		before, err := os.Lstat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		err = WriteFileAtomic(c.path, writeString("x"))
		if !errors.Is(err, ErrNotRegularOutput) || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.what) {
			t.Fatalf("%s: error %v, want ErrNotRegularOutput naming the path and %q", c.path, err, c.what)
		}
		after, err := os.Lstat(c.path)
		if err != nil || after.Mode() != before.Mode() {
			t.Fatalf("%s: mode %v -> %v (%v): the file was replaced", c.path, before.Mode(), after.Mode(), err)
		}
		err = CheckOutputs([]NamedPath{{"-o", c.path}}, nil)
		if !errors.Is(err, ErrNotRegularOutput) || !strings.HasPrefix(err.Error(), "-o "+c.path) {
			t.Fatalf("CheckOutputs %s: %v", c.path, err)
		}
	}
	assertOnlyFiles(t, dir, "pipe", "sub")
}

func TestWriteFileAtomicWritesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	targetDir := filepath.Join(dir, "real")
	if err := os.Mkdir(targetDir, 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(targetDir, "model.bin")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.bin")
	if err := os.Symlink(filepath.Join("real", "model.bin"), link); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(link, writeString("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(link)
	if err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("%s is no longer a symlink (%v, %v)", link, st, err)
	}
	got, _ := os.ReadFile(target)
	if string(got) != "new" {
		t.Fatalf("target holds %q, want the new content", got)
	}
	if tst, _ := os.Stat(target); tst.Mode().Perm() != 0o600 {
		t.Fatalf("target mode %v, want the old 0600 kept", tst.Mode().Perm())
	}
	assertOnlyFiles(t, targetDir, "model.bin")

	dangling := filepath.Join(dir, "dangling.bin")
	if err := os.Symlink("nowhere/x.bin", dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(dangling, writeString("x")); !errors.Is(err, ErrDanglingSymlink) {
		t.Fatalf("dangling symlink: %v, want ErrDanglingSymlink", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a write through a dangling symlink created its target")
	}
}

func TestCheckOutputsSameFileAsInput(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.safetensors")
	data := filepath.Join(dir, "states.npz")
	for _, p := range []string{model, data} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hard := filepath.Join(dir, "hard.safetensors")
	if err := os.Link(model, hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(dir, "soft.npz")
	if err := os.Symlink("states.npz", soft); err != nil {
		t.Fatal(err)
	}
	inputs := []NamedPath{{"--model", model}, {"--calib", data}, {"--missing", filepath.Join(dir, "absent")}}
	cases := []struct {
		out       string
		collision string
	}{
		{model, "--model"}, {hard, "--model"}, {soft, "--calib"}, {dir + "/./states.npz", "--calib"},
	}
	for _, c := range cases {
		err := CheckOutputs([]NamedPath{{"-o", c.out}}, inputs)
		if !errors.Is(err, ErrOutputIsInput) || !strings.Contains(err.Error(), c.collision) || !strings.Contains(err.Error(), "-o "+c.out) {
			t.Fatalf("-o %s: %v, want ErrOutputIsInput naming -o and %s", c.out, err, c.collision)
		}
	}
	if err := CheckOutputs([]NamedPath{{"-o", filepath.Join(dir, "no", "such", "x.npz")}}, nil); !errors.Is(err, ErrNoOutputDir) ||
		!strings.Contains(err.Error(), filepath.Join(dir, "no", "such")) {
		t.Fatalf("output in a missing directory: %v", err)
	}
	fresh := filepath.Join(dir, "new.safetensors")
	if err := CheckOutputs([]NamedPath{{"-o", fresh}, {"--student-out", ""}}, inputs); err != nil {
		t.Fatalf("a new output: %v", err)
	}
	err := CheckOutputs([]NamedPath{{"-o", fresh}, {"--student-out", filepath.Join(dir, "x", "..", "new.safetensors")}}, inputs)
	if !errors.Is(err, ErrOutputTwice) || !strings.Contains(err.Error(), "--student-out") {
		t.Fatalf("two outputs at one new path: %v, want ErrOutputTwice", err)
	}
	for _, p := range []string{model, data} {
		if got, _ := os.ReadFile(p); string(got) != p {
			t.Fatalf("%s changed", p)
		}
	}
}

func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "probe.npz")
	// A process that has ended: its pid is free (reuse within the test is
	// possible but would only keep the file, never remove a live one).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` binary:", err)
	}
	dead := cmd.ProcessState.Pid()
	stale := filepath.Join(dir, ".probe.npz.tmp-"+strconv.Itoa(dead)+"-123")
	live := filepath.Join(dir, ".probe.npz.tmp-"+strconv.Itoa(os.Getppid())+"-456")
	foreign := filepath.Join(dir, ".probe.npz.tmp-789") // no pid: not ours to judge
	for _, p := range []string{stale, live, foreign} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFileAtomic(path, writeString("done")); err != nil {
		t.Fatal(err)
	}
	assertOnlyFiles(t, dir, filepath.Base(live), filepath.Base(foreign), "probe.npz")
}

func TestRemoveTempFilesDuringWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.npz")
	var seen []string
	err := WriteFileAtomic(path, func(w io.Writer) error {
		m, _ := filepath.Glob(filepath.Join(dir, ".big.npz.tmp-*"))
		seen = m
		if n := RemoveTempFiles(); n != 1 {
			t.Errorf("RemoveTempFiles removed %d files, want 1", n)
		}
		return errors.New("interrupted")
	})
	if err == nil || len(seen) != 1 {
		t.Fatalf("err %v, temp files during the write %v", err, seen)
	}
	assertOnlyFiles(t, dir)
}

func TestLockRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	l, err := LockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Nested use in one process (a pipeline running a verb in its own
	// directory) is allowed.
	l2, err := LockRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	l2.Unlock()
	if pid, _ := os.ReadFile(filepath.Join(dir, RunLockFile)); string(pid) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("lock file holds %q, want this process's id", pid)
	}
	// Another holder: a second open file description of the directory
	// conflicts like another process would.
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		t.Fatal("the directory is not locked while LockRunDir holds it")
	}
	l.Unlock()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal("Unlock did not release the lock:", err)
	}
	assertOnlyFiles(t, dir) // the pid file goes with the lock
	if err := os.WriteFile(filepath.Join(dir, RunLockFile), []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LockRunDir(dir)
	var busy *RunDirBusyError
	if !errors.As(err, &busy) || !errors.Is(err, ErrRunDirBusy) || busy.PID != 4242 ||
		!strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "process 4242") {
		t.Fatalf("second holder: %v, want a RunDirBusyError naming %s and process 4242", err, dir)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	l3, err := LockRunDir(dir)
	if err != nil {
		t.Fatal("after the holder let go:", err)
	}
	l3.Unlock()

	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LockRunDir(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("a file as run directory: %v", err)
	}
}

// zipOf builds a zip archive holding one member.
func zipOf(t *testing.T, name string, method uint16, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadNPZBudgets(t *testing.T) {
	// A zip bomb: a deflated member of 100 KB that declares 80 MiB (what
	// 80 MiB of zeros deflate to); refused from its header alone.
	var raw bytes.Buffer
	zw := zip.NewWriter(&raw)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
		CompressedSize64: 100_000, UncompressedSize64: 80 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 100_000)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := raw.Bytes()
	_, err = ReadNPZArrays(bytes.NewReader(data), int64(len(data)), "bomb.npz")
	if err == nil || !strings.Contains(err.Error(), "bomb.npz") || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("bomb: %v, want a zip-bomb refusal naming the file", err)
	}

	// An honest array over the budget: 1000 float32 need 4000 raw bytes
	// (8000 while buffered) and 8000 as float64.
	small := encodedNPY(t, NewFloat32Array("y", []int{1000}, make([]float32, 1000)))
	data = zipOf(t, "y.npy", zip.Store, small)
	defer SetReadBudget(0)
	SetReadBudget(10_000)
	_, err = ReadNPZArrays(bytes.NewReader(data), int64(len(data)), "big.npz")
	var budget *BudgetError
	if !errors.As(err, &budget) || !strings.Contains(err.Error(), "big.npz") || budget.Limit != 10_000 || strings.Contains(err.Error(), "--") {
		t.Fatalf("over budget: %v, want a BudgetError naming the file and no flag", err)
	}
	SetReadBudget(16_000)
	if _, err := ReadNPZArrays(bytes.NewReader(data), int64(len(data)), "big.npz"); err != nil {
		t.Fatalf("within budget: %v", err)
	}
}

func encodedNPY(t *testing.T, a *Array) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := encodeNPY(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A writer killed but not yet reaped (a zombie) counts as gone, so its
// temporary file is reclaimed at once.
func TestProcessGoneZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Skip("no `true` binary:", err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d exited but is not seen as gone", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if processGone(os.Getpid()) {
		t.Fatal("this process is seen as gone")
	}
	_ = cmd.Wait()
}
