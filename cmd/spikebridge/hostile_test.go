package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/internal/testfixtures"
	"github.com/spikebridge/spikebridge/probe"
	"github.com/spikebridge/spikebridge/workflow"
)

// hostileFiles builds the small real files the hostile cases point at, in
// dir: a model imported from the PyTorch fixture, states recorded with it,
// its SNN, a probe data set, the PyTorch files themselves and crafted bad
// ones.
func hostileFiles(t *testing.T, dir string) {
	t.Helper()
	src := testfixtures.Dir(t, "pytorch")
	for name, from := range map[string]string{"x.pt": "cartpole_mlp_state_dict.pt", "legacy.pt": "cartpole_mlp_legacy.pt"} {
		data, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"import", "pytorch", "x.pt", "-o", "m.safetensors"},
		{"record", "--model", "m.safetensors", "--episodes", "3", "--epsilon", "0.2", "-o", "states.npz"},
		{"convert", "--method", "baseline", "--model", "m.safetensors", "--calib", "states.npz", "-o", "snn.safetensors"},
		{"probe", "generate", "--trials", "4", "--duration", "2", "-o", "probe.npz"},
	} {
		if code, _, stderr := runCLIIn(t, dir, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
	}
	write := func(name string, arrays ...*formats.Array) {
		if err := formats.WriteNPZ(filepath.Join(dir, name), arrays); err != nil {
			t.Fatal(err)
		}
	}
	states := make([]float32, 10*4)
	for i := range states {
		states[i] = float32(i%7) / 10
	}
	// One stray action label 7 among 0s and 1s, with and without the
	// Q-values that say there are 2 actions.
	stray := []int{0, 1, 0, 1, 0, 1, 0, 1, 0, 7}
	write("stray7.npz", formats.NewFloat32Array("states", []int{10, 4}, states), formats.NewInt64Array("actions", []int{10}, stray))
	write("stray7q.npz", formats.NewFloat32Array("states", []int{10, 4}, states), formats.NewInt64Array("actions", []int{10}, stray),
		formats.NewFloat32Array("q", []int{10, 2}, make([]float32, 20)))
	write("labels1e9.npz", formats.NewFloat32Array("states", []int{3, 4}, states[:12]),
		formats.NewFloat64Array("actions", []int{3}, []float64{0, 1, 1e9}))
	// A zip bomb: a deflated member of 777 KB that declares 800 MB.
	var raw bytes.Buffer
	zw := zip.NewWriter(&raw)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "states.npy", Method: zip.Deflate,
		CompressedSize64: 777_000, UncompressedSize64: 800_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 777_000)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"bomb.npz": raw.Bytes(), "empty.npz": nil, "emu.safetensors": []byte("placeholder")}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "states.npz"), filepath.Join(dir, "hardlink.npz")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere/out.npz", filepath.Join(dir, "dangling.npz")); err != nil {
		t.Fatal(err)
	}
	// Run directories whose files are a device or a link to an input.
	for _, l := range []struct{ dir, name, target string }{
		{"devnull-run", "compare.json", "/dev/null"}, {"link-run", "compare.json", "../m.safetensors"},
	} {
		if err := os.Mkdir(filepath.Join(dir, l.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(l.target, filepath.Join(dir, l.dir, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	// A finished run's directory, whose model a fine-tuning run might take.
	if err := os.Mkdir(filepath.Join(dir, "emu"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "emu", "model.safetensors"), []byte("a trained emulator"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A run directory stopped before its first checkpoint: config only.
	for _, d := range []string{"cfgonly-dqn", "cfgonly-emu"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, d, "config.json"), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A run directory held by another process (pid 4242).
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(locked, formats.RunLockFile), []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(locked)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// runCLIIn runs the CLI in-process with dir as the working directory.
func runCLIIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	return runCLI(t, args...)
}

// snapshot records every entry under dir (content hash and mode), so a
// case can show it changed nothing and left no temporary file.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileInputs runs every case of issue 14 that can go wrong (and our
// own of the same kinds) through the CLI in-process: each must exit 1 or 2
// with a message naming the file or flag and what is wrong, within 10 s and
// 1 GiB of allocations, leave no temporary file and change no existing file.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	hostileFiles(t, dir)
	devNull, err := os.Stat("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int      // 1 or 2
		want []string // in the message
	}{
		// 1. outputs that are not regular files
		{"1 predict -o /dev/null", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "/dev/null"}, 2, []string{"-o /dev/null", "character device"}},
		{"1 predict -o fifo", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "fifo"}, 2, []string{"-o fifo", "FIFO"}},
		{"1 record -o directory", []string{"record", "--model", "m.safetensors", "-o", "adir"}, 2, []string{"-o adir", "directory"}},
		{"1 predict -o dangling symlink", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "dangling.npz"}, 2, []string{"dangling.npz", "symlink to a missing file"}},
		{"1 probe -o /dev/null", []string{"probe", "generate", "--trials", "2", "-o", "/dev/null"}, 2, []string{"-o /dev/null", "character device"}},
		{"1 eval-emulator --plot /dev/null", []string{"eval-emulator", "--model", "emu.safetensors", "--data", "probe.npz", "--plot", "/dev/null"}, 2, []string{"--plot /dev/null"}},
		{"1 predict -o in a missing directory", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "nodir/q.npz"}, 2, []string{"-o nodir/q.npz", "nodir does not exist"}},
		{"1 train dqn --out a file", []string{"train", "dqn", "--out", "states.npz"}, 2, []string{"--out states.npz", "not a directory"}},
		// 2. an output that is an input
		{"2 record -o = --model", []string{"record", "--model", "m.safetensors", "-o", "m.safetensors"}, 2, []string{"-o m.safetensors", "same file as --model"}},
		{"2 convert -o = --model", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "-o", "m.safetensors"}, 2, []string{"same file as --model"}},
		{"2 convert -o = --calib", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "-o", "states.npz"}, 2, []string{"same file as --calib"}},
		{"2 convert -o = --calib FILE:ARRAY", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz:states", "-o", "states.npz"}, 2, []string{"same file as --calib"}},
		{"2 convert --student-out = --model", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "-o", "new.safetensors", "--student-out", "m.safetensors"}, 2, []string{"--student-out m.safetensors", "same file as --model"}},
		{"2 convert two outputs one file", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "-o", "new.safetensors", "--student-out", "./new.safetensors"}, 2, []string{"--student-out", "each output needs its own file"}},
		{"2 predict -o = --input", []string{"predict", "--model", "m.safetensors", "--input", "states.npz:states", "-o", "states.npz"}, 2, []string{"same file as --input"}},
		{"2 predict -o = hard link of --input", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "hardlink.npz"}, 2, []string{"-o hardlink.npz", "same file as --input"}},
		{"2 import x.pt -o x.pt", []string{"import", "pytorch", "x.pt", "-o", "x.pt"}, 2, []string{"-o x.pt", "same file as argument 1"}},
		{"2 train classifier -o = --data", []string{"train", "classifier", "--data", "states.npz", "-o", "states.npz"}, 2, []string{"same file as --data"}},
		{"2 train classifier -o = --teacher", []string{"train", "classifier", "--data", "states.npz", "--teacher", "m.safetensors", "-o", "m.safetensors"}, 2, []string{"same file as --teacher"}},
		{"2 eval-emulator --plot = --model", []string{"eval-emulator", "--model", "m.safetensors", "--data", "probe.npz", "--plot", "m.safetensors"}, 2, []string{"--plot m.safetensors", "same file as --model"}},
		{"2 predict -o = --model", []string{"predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "m.safetensors"}, 2, []string{"same file as --model"}},
		// 3. two runs into one --out
		{"3 train dqn into a locked --out", []string{"train", "dqn", "--steps", "100", "--out", "locked"}, 1, []string{"--out locked", "process 4242"}},
		{"3 compare into a locked --out", []string{"compare", "--ann", "m.safetensors", "--snn", "snn.safetensors", "--episodes", "1", "--timesteps", "8", "--out", "locked"}, 1, []string{"locked", "process 4242"}},
		{"3 train emulator into a locked --out", []string{"train", "emulator", "--data", "probe.npz", "--out", "locked"}, 1, []string{"locked", "process 4242"}},
		{"3 pipeline into a locked --out", []string{"pipeline", "--from-pytorch", "x.pt", "--out", "locked"}, 1, []string{"locked", "process 4242"}},
		{"3 train emulator --init inside --out", []string{"train", "emulator", "--data", "probe.npz", "--init", "emu/model.safetensors", "--out", "emu", "--force"}, 2, []string{"--init emu/model.safetensors", "lies in --out emu"}},
		{"3 compare --ann inside --out", []string{"compare", "--ann", "emu/model.safetensors", "--snn", "snn.safetensors", "--out", "emu"}, 2, []string{"--ann emu/model.safetensors", "lies in --out emu"}},
		{"1 a run file in --out is /dev/null", []string{"compare", "--ann", "m.safetensors", "--snn", "snn.safetensors", "--out", "devnull-run"}, 2, []string{"devnull-run/compare.json", "character device"}},
		{"2 compare --out holds a link to --ann", []string{"compare", "--ann", "m.safetensors", "--snn", "snn.safetensors", "--out", "link-run"}, 2, []string{"link-run/compare.json", "same file as --ann"}},
		// 4. panics and out-of-memory
		{"4 eval-emulator --rollout 1e20", []string{"eval-emulator", "--model", "emu.safetensors", "--data", "probe.npz", "--rollout", "1e20"}, 2, []string{"--rollout 1e+20", "--max-memory"}},
		{"4 eval-emulator --rollout 1e9", []string{"eval-emulator", "--model", "emu.safetensors", "--data", "probe.npz", "--rollout", "1e9"}, 2, []string{"--rollout 1e+09", "--max-memory"}},
		{"4 train classifier on label 1e9", []string{"train", "classifier", "--data", "labels1e9.npz", "-o", "student.safetensors"}, 1, []string{"labels1e9.npz", "label 1000000000"}},
		// 5. sizes that grow without bound
		{"5 record --episodes 1e7", []string{"record", "--model", "m.safetensors", "--episodes", "10000000", "-o", "r.npz"}, 2, []string{"--episodes 10000000", "--max-memory"}},
		{"5 record --episodes 1e8", []string{"record", "--model", "m.safetensors", "--episodes", "100000000", "-o", "r.npz"}, 2, []string{"--episodes 100000000"}},
		{"5 train dqn --batch 1e6", []string{"train", "dqn", "--batch", "1000000", "--out", "run-batch"}, 2, []string{"--batch 1000000"}},
		{"5 train dqn --buffer 1e9", []string{"train", "dqn", "--buffer", "1000000000", "--out", "run-buffer"}, 2, []string{"--buffer 1000000000", "at most"}},
		{"5 train dqn --buffer 2e8", []string{"train", "dqn", "--buffer", "200000000", "--out", "run-buffer", "--max-memory", "4GiB"}, 2, []string{"--buffer 200000000", "--max-memory 4 GiB"}},
		{"5 train sqn --timesteps 1e9", []string{"train", "sqn", "--timesteps", "1000000000", "--out", "run-sqn"}, 2, []string{"--timesteps 1000000000"}},
		{"5 train sqn into a locked --out", []string{"train", "sqn", "--steps", "100", "--out", "locked"}, 1, []string{"locked", "process 4242"}},
		{"5 env cartpole --episodes 1e8", []string{"env", "cartpole", "--episodes", "100000000"}, 2, []string{"--episodes 100000000"}},
		{"5 eval --episodes 1e8", []string{"eval", "--model", "m.safetensors", "--episodes", "100000000"}, 2, []string{"--episodes 100000000"}},
		{"5 convert --copies 1e6", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "--copies", "1000000", "-o", "s.safetensors"}, 2, []string{"--copies 1000000"}},
		{"5 train dqn --hidden 1e6", []string{"train", "dqn", "--hidden", "1000000", "--out", "run-hidden"}, 2, []string{"--hidden 1000000"}},
		{"5 eval --timesteps 1e9", []string{"eval", "--model", "snn.safetensors", "--timesteps", "1000000000"}, 2, []string{"--timesteps 1000000000"}},
		{"5 convert --timesteps 1e9", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "--timesteps", "1000000000", "-o", "s.safetensors"}, 2, []string{"--timesteps 1000000000"}},
		{"5 compare --timesteps 1e9", []string{"compare", "--ann", "m.safetensors", "--snn", "snn.safetensors", "--timesteps", "8,1000000000", "--out", "cmp"}, 2, []string{"--timesteps 1000000000"}},
		{"5 train classifier --hidden 65536,65536", []string{"train", "classifier", "--data", "states.npz", "--hidden", "65536,65536", "-o", "student.safetensors", "--max-memory", "8GiB"}, 2, []string{"--hidden 65536,65536", "--max-memory"}},
		{"5 train emulator --hidden 65536,65536", []string{"train", "emulator", "--data", "probe.npz", "--hidden", "65536,65536", "--out", "emu-big", "--max-memory", "8GiB"}, 2, []string{"--hidden 65536,65536", "--max-memory"}},
		{"5 convert --hidden 65536,65536", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "--hidden", "65536,65536", "-o", "s.safetensors", "--max-memory", "8GiB"}, 2, []string{"--hidden", "--max-memory"}},
		{"5 train sqn --timesteps 65536 --batch 4096", []string{"train", "sqn", "--timesteps", "65536", "--batch", "4096", "--out", "run-sqn", "--max-memory", "8GiB"}, 2, []string{"--timesteps 65536", "--max-memory"}},
		{"5 train dqn --hidden 65536,65536", []string{"train", "dqn", "--hidden", "65536,65536", "--out", "run-h", "--max-memory", "8GiB"}, 2, []string{"--hidden 65536,65536", "--max-memory"}},
		{"5 compare --episodes 1e7", []string{"compare", "--ann", "m.safetensors", "--snn", "snn.safetensors", "--episodes", "10000000", "--out", "cmp-big"}, 2, []string{"--episodes 10000000", "--max-memory"}},
		{"5 convert --teacher-episodes 1e7", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "--teacher-episodes", "10000000", "-o", "s.safetensors"}, 2, []string{"--teacher-episodes 10000000", "--max-memory"}},
		{"5 convert --dagger-episodes 1e6 x 1000 rounds", []string{"convert", "--model", "m.safetensors", "--calib", "states.npz", "--dagger-episodes", "1000000", "--dagger-rounds", "1000", "-o", "s.safetensors"}, 2, []string{"--dagger-episodes 1000000", "--max-memory"}},
		{"5 inspect a zip bomb", []string{"inspect", "bomb.npz"}, 1, []string{"bomb.npz", "zip bomb"}},
		{"5 predict a zip bomb", []string{"predict", "--model", "m.safetensors", "--input", "bomb.npz", "-o", "q.npz"}, 1, []string{"bomb.npz", "zip bomb"}},
		{"5 read budget", []string{"inspect", "states.npz", "--max-memory", "1KiB"}, 1, []string{"states.npz", "--max-memory"}},
		{"5 probe generate --trials huge", []string{"probe", "generate", "--trials", "1000000", "--duration", "1000", "-o", "p.npz"}, 2, []string{"--trials", "--max-memory"}},
		// 6. labels checked against the outputs
		{"6 one stray label 7 (q says 2 actions)", []string{"train", "classifier", "--data", "stray7q.npz", "-o", "student.safetensors"}, 1, []string{"stray7q.npz", "label 7 at row 9", "2 actions"}},
		{"6 one stray label 7 (no q)", []string{"train", "classifier", "--data", "stray7.npz", "-o", "student.safetensors"}, 1, []string{"stray7.npz", "label 7 at row 9", "no sample"}},
		// 7. bad flags and early kills do not poison the run directory
		{"7 train emulator --grad-clip -1", []string{"train", "emulator", "--data", "probe.npz", "--grad-clip", "-1", "--out", "emu-run"}, 2, []string{"--grad-clip -1"}},
		{"7 train emulator --resume without a checkpoint", []string{"train", "emulator", "--resume", "--out", "cfgonly-emu"}, 2, []string{"cfgonly-emu", "no checkpoint"}},
		{"7 train dqn --resume without a checkpoint", []string{"train", "dqn", "--resume", "--out", "cfgonly-dqn"}, 2, []string{"cfgonly-dqn", "no checkpoint"}},
		// 8. messages that say what is wrong
		{"8 inspect empty.npz", []string{"inspect", "empty.npz"}, 1, []string{"empty.npz", "it is empty"}},
		{"8 train emulator --val 0", []string{"train", "emulator", "--data", "probe.npz", "--val", "0", "--out", "emu-val"}, 2, []string{"--val 0"}},
		{"8 probe generate --duration 1e300", []string{"probe", "generate", "--duration", "1e300", "-o", "p.npz"}, 2, []string{"--duration 1e+300"}},
		{"8 compare --snn legacy.pt", []string{"compare", "--ann", "m.safetensors", "--snn", "legacy.pt", "--out", "cmp-legacy"}, 1, []string{"legacy.pt", "PyTorch"}},
		{"8 eval --model bomb", []string{"eval", "--model", "probe.npz"}, 1, []string{"probe.npz"}},
		// our own
		{"-o - with --json", []string{"record", "--model", "m.safetensors", "-o", "-", "--json"}, 2, []string{"-o -", "--json"}},
		{"--max-memory garbage", []string{"inspect", "states.npz", "--max-memory", "lots"}, 2, []string{"--max-memory", "lots"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snapshot(t, dir)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			code, _, stderr := runCLIIn(t, dir, c.args...)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&m1)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message %q does not say %q", strings.TrimSpace(stderr), w)
				}
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("a panic: %s", stderr)
			}
			if elapsed > 10*time.Second {
				t.Errorf("took %v, want under 10 s", elapsed)
			}
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 1<<30 {
				t.Errorf("allocated %d bytes, want under 1 GiB", alloc)
			}
			after := snapshot(t, dir)
			for path, desc := range after {
				if strings.Contains(filepath.Base(path), ".tmp-") {
					t.Errorf("temporary file left: %s", path)
				}
				if old, ok := before[path]; ok && old != desc {
					t.Errorf("%s changed", path)
				}
				if _, ok := before[path]; !ok {
					t.Errorf("new file %s after a refused command", path)
				}
			}
			for path := range before {
				if _, ok := after[path]; !ok {
					t.Errorf("%s was removed", path)
				}
			}
			if st, err := os.Stat("/dev/null"); err != nil || st.Mode() != devNull.Mode() {
				t.Fatalf("/dev/null is now %v", st.Mode())
			}
		})
	}
}

// TestOutputRuleGoodPaths: what the rule allows still works: -o - writes the
// stream to stdout (its text to stderr), a symlinked output is written
// through, convert --calib takes FILE.npz:ARRAY, a run directory with only
// a config restarts without --force.
func TestOutputRuleGoodPaths(t *testing.T) {
	dir := t.TempDir()
	hostileFiles(t, dir)

	code, stdout, stderr := runCLIIn(t, dir, "predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, "PK") || !strings.Contains(stderr, "wrote q") {
		t.Fatalf("predict -o -: exit %d, stdout %d bytes starting %q, stderr %q", code, len(stdout), stdout[:min(len(stdout), 4)], stderr)
	}
	arrays, err := formats.ReadNPZArrays(strings.NewReader(stdout), int64(len(stdout)), "stdout")
	if err != nil || len(arrays) != 2 || arrays[0].Name != "q" {
		t.Fatalf("predict -o - wrote no .npz of q and actions: %v", err)
	}

	code, stdout, stderr = runCLIIn(t, dir, "probe", "generate", "--trials", "2", "--duration", "1", "-o", "-")
	if code != 0 || !strings.HasPrefix(stdout, "trial,") || !strings.Contains(stderr, "wrote -") {
		t.Fatalf("probe generate -o -: exit %d, stdout %q, stderr %q", code, stdout[:min(len(stdout), 40)], stderr)
	}

	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real", "q.npz"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real/q.npz", filepath.Join(dir, "latest.npz")); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLIIn(t, dir, "predict", "--model", "m.safetensors", "--input", "states.npz", "-o", "latest.npz"); code != 0 {
		t.Fatalf("predict -o symlink: exit %d: %s", code, stderr)
	}
	if st, err := os.Lstat(filepath.Join(dir, "latest.npz")); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced")
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "real", "q.npz")); !bytes.HasPrefix(data, []byte("PK")) {
		t.Fatal("the symlink's target was not written")
	}

	code, stdout, stderr = runCLIIn(t, dir, "convert", "--method", "neuron", "--model", "m.safetensors", "--calib", "states.npz:states", "-o", "calib-spec.safetensors", "--json")
	if code != 0 {
		t.Fatalf("convert --calib FILE.npz:ARRAY: exit %d: %s", code, stderr)
	}
	var res workflow.ConvertResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.States == 0 {
		t.Fatalf("convert --json: %v (%q)", err, stdout)
	}

	if code, _, stderr := runCLIIn(t, dir, "train", "dqn", "--steps", "300", "--warmup", "100", "--eval-episodes", "1",
		"--keep-best-every", "0", "--hidden", "8", "--out", "cfgonly-dqn"); code != 0 {
		t.Fatalf("train dqn into a directory with only a config.json: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cfgonly-dqn", "checkpoint.bin")); err != nil {
		t.Fatal("the restarted run wrote no checkpoint:", err)
	}
	if code, _, stderr := runCLIIn(t, dir, "train", "emulator", "--data", "probe.npz", "--window", "20", "--epochs", "1",
		"--hidden", "8", "--out", "cfgonly-emu"); code != 0 {
		t.Fatalf("train emulator into a directory with only a config.json: exit %d: %s", code, stderr)
	}
	// A finished run is a run: starting afresh needs --force.
	code, _, stderr = runCLIIn(t, dir, "train", "dqn", "--steps", "300", "--out", "cfgonly-dqn")
	if code == 0 || !strings.Contains(stderr, "already holds a run") {
		t.Fatalf("a second fresh run over a finished one: exit %d: %s", code, stderr)
	}
}

// Case 9: a probe file where in some steps every target is missing trains,
// and the samples left out are counted in --json and in the text.
func TestTrainEmulatorMissingSamples(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLIIn(t, dir, "probe", "generate", "--trials", "6", "--duration", "3", "-o", "p.npz"); code != 0 {
		t.Fatalf("probe generate: %s", stderr)
	}
	p, err := probe.Load("p.npz")
	if err != nil {
		t.Fatal(err)
	}
	// Windows of 10 steps; the missing steps lie inside windows, so each
	// wholly missing step k leaves out sample k-1 (no target) and sample k
	// (no state); the partly missing one leaves out only the sample that
	// starts from it.
	for _, ts := range [][2]int{{0, 5}, {2, 17}, {4, 33}} {
		tg := p.Target(ts[0], ts[1])
		for d := range tg {
			tg[d] = math.NaN()
		}
	}
	p.Target(1, 24)[0] = math.NaN()
	if err := probe.WriteNPZ("p.npz", p); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLIIn(t, dir, "train", "emulator", "--data", "p.npz", "--window", "10", "--epochs", "2",
		"--hidden", "8", "--out", "run", "--json")
	if code != 0 {
		t.Fatalf("train emulator on data with missing samples: exit %d: %s", code, stderr)
	}
	var res workflow.TrainEmulatorResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.SkippedMissingInput != 4 || res.SkippedMissingTarget != 3 {
		t.Fatalf("skipped %d samples for a missing state, %d for missing targets; want 4 and 3", res.SkippedMissingInput, res.SkippedMissingTarget)
	}
	if math.IsNaN(res.ValLoss) || math.IsNaN(res.TrainLoss) {
		t.Fatalf("losses %v / %v", res.TrainLoss, res.ValLoss)
	}
	code, stdout, stderr = runCLIIn(t, dir, "train", "emulator", "--data", "p.npz", "--window", "10", "--epochs", "1",
		"--hidden", "8", "--out", "run2")
	if code != 0 || !strings.Contains(stdout, "4 samples left out because a state or input") || !strings.Contains(stdout, "3 because all their targets") {
		t.Fatalf("text output does not give the counts: exit %d: %s %s", code, stdout, stderr)
	}
}

// TestEveryIntFlagBounded: every int flag of every verb either has a
// documented maximum (flagMaxima, shown in --help and checked before the
// verb runs) or is listed as sizing nothing, so a new size flag cannot slip
// in unbounded.
func TestEveryIntFlagBounded(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			switch f.Value.Type() {
			case "int", "int64", "intSlice", "uint", "uint64":
			default:
				return
			}
			if limit, ok := flagMaxima[f.Name]; ok {
				if !strings.Contains(f.Usage, fmt.Sprintf("at most %d", limit)) {
					t.Errorf("%s --%s: help %q does not give its maximum", c.CommandPath(), f.Name, f.Usage)
				}
				return
			}
			if !notSizeFlags[f.Name] {
				t.Errorf("%s --%s (%s): no maximum in flagMaxima and not listed in notSizeFlags", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(&IOStreams{}))
}

// Case 10: pipeline --help lists as many stages as its progress counts.
func TestPipelineHelpListsEveryStage(t *testing.T) {
	long := NewCmdPipeline(&IOStreams{}, nil).Long
	n := 0
	for _, line := range strings.Split(long, "\n") {
		if strings.HasPrefix(line, fmt.Sprintf("  %d. ", n+1)) {
			n++
		}
	}
	if n != pipelineStages {
		t.Fatalf("pipeline --help lists %d stages, its progress counts [n/%d]", n, pipelineStages)
	}
}
