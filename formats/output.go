package formats

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/term"
)

// The output rule, shared by every verb that writes a file:
//
//   - An output that is the same file as one of the run's inputs (compared
//     with os.SameFile, so hard links and symlinks count) is refused before
//     any work is done: nothing a verb reads is ever overwritten by it.
//   - An existing output that is not a regular file (a device such as
//     /dev/null, a FIFO, a socket, a directory) is refused: an atomic write
//     would replace it with a regular file.
//   - A symlink is written through on purpose: the file it points at is
//     replaced atomically (temporary file in the target's directory, then
//     rename) and the link stays a link. A symlink to a missing file is
//     refused, since it is unclear what the user meant.
//   - "-" is standard output, for the verbs whose output is one stream; it
//     is refused when standard output is a terminal (binary files there
//     help nobody).
//   - Two outputs of one run may not be the same file either.
//
// CheckOutputs applies the rule up front, naming the caller's labels for
// the paths (cmd passes its flag names); WriteFileAtomic applies the parts
// it can see (non-regular files, symlinks) again at write time.

// StdoutPath is the output path that means standard output.
const StdoutPath = "-"

// NamedPath is a path and the name the caller gives it in messages (a
// command-line flag, "run directory", ...).
type NamedPath struct {
	Label string
	Path  string
}

// ErrOutputIsInput and ErrNotRegularOutput classify OutputErrors.
var (
	ErrOutputIsInput    = errors.New("output is the same file as an input")
	ErrNotRegularOutput = errors.New("output exists and is not a regular file")
	ErrDanglingSymlink  = errors.New("output is a symlink to a missing file")
	ErrOutputIsTerminal = errors.New("standard output is a terminal")
	ErrOutputTwice      = errors.New("two outputs are the same file")
	ErrNoOutputDir      = errors.New("the output's directory does not exist")
)

// OutputError is a violation of the output rule.
type OutputError struct {
	Output NamedPath
	// Other is the input (or the other output) it collides with, if any.
	Other *NamedPath
	Kind  error // one of the Err*Output sentinels above
	// What describes the file found ("a character device", ...).
	What string
}

func (e *OutputError) Error() string {
	out := e.Output.Label + " " + e.Output.Path
	if e.Output.Label == "" {
		out = e.Output.Path
	}
	switch e.Kind {
	case ErrOutputIsInput:
		return fmt.Sprintf("%s is the same file as %s %s: refusing to overwrite an input", out, e.Other.Label, e.Other.Path)
	case ErrNotRegularOutput:
		return fmt.Sprintf("%s is %s, not a regular file: refusing to replace it", out, e.What)
	case ErrDanglingSymlink:
		return fmt.Sprintf("%s is a symlink to a missing file (%s): refusing to guess where to write", out, e.What)
	case ErrOutputTwice:
		return fmt.Sprintf("%s is the same file as %s %s: each output needs its own file", out, e.Other.Label, e.Other.Path)
	case ErrNoOutputDir:
		return fmt.Sprintf("%s: directory %s does not exist (create it first)", out, e.What)
	case ErrOutputIsTerminal:
		return fmt.Sprintf("%s: standard output is a terminal; redirect it to a file or a pipe", out)
	}
	return out + ": " + e.Kind.Error()
}

func (e *OutputError) Unwrap() error { return e.Kind }

// CheckOutputs applies the output rule to outputs against inputs. Empty
// paths are skipped (optional outputs and inputs not given), and so are
// inputs that do not exist (reading them fails later with its own message).
// Input paths must be plain paths: strip "FILE.npz:array" specs first.
func CheckOutputs(outputs, inputs []NamedPath) error {
	type seen struct {
		np   NamedPath
		info fs.FileInfo // nil for a file that does not exist yet
		abs  string
	}
	var ins []seen
	for _, in := range inputs {
		if in.Path == "" || in.Path == StdoutPath {
			continue
		}
		if st, err := os.Stat(in.Path); err == nil {
			ins = append(ins, seen{np: in, info: st})
		}
	}
	var outs []seen
	for _, out := range outputs {
		if out.Path == "" || out.Path == StdoutPath {
			continue
		}
		target, err := resolveOutput(out.Path)
		if err != nil {
			var oe *OutputError
			if errors.As(err, &oe) {
				oe.Output = out
			}
			return err
		}
		var info fs.FileInfo
		if st, err := os.Stat(target); err == nil {
			info = st
		} else if d := filepath.Dir(target); !isDir(d) {
			return &OutputError{Output: out, Kind: ErrNoOutputDir, What: d}
		}
		abs, _ := filepath.Abs(target)
		for _, in := range ins {
			if info != nil && os.SameFile(info, in.info) {
				other := in.np
				return &OutputError{Output: out, Other: &other, Kind: ErrOutputIsInput}
			}
		}
		for _, o := range outs {
			same := info != nil && o.info != nil && os.SameFile(info, o.info)
			if same || (info == nil && o.info == nil && abs == o.abs) {
				other := o.np
				return &OutputError{Output: out, Other: &other, Kind: ErrOutputTwice}
			}
		}
		outs = append(outs, seen{np: out, info: info, abs: abs})
	}
	return nil
}

// CheckStdout refuses "-" as an output when w is a terminal.
func CheckStdout(label string, w io.Writer) error {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &OutputError{Output: NamedPath{Label: label, Path: StdoutPath}, Kind: ErrOutputIsTerminal}
	}
	return nil
}

var stdoutSink struct {
	sync.Mutex
	w io.Writer
}

// SetStdout sets where writes to the path "-" go (nil: nowhere, such a
// write is an error). The CLI sets it for the verbs whose output is one
// stream.
func SetStdout(w io.Writer) {
	stdoutSink.Lock()
	stdoutSink.w = w
	stdoutSink.Unlock()
}

func writeStdout(write func(io.Writer) error) error {
	stdoutSink.Lock()
	w := stdoutSink.w
	stdoutSink.Unlock()
	if w == nil {
		return fmt.Errorf("formats: %q (standard output) is not an output of this command", StdoutPath)
	}
	if err := write(w); err != nil {
		return fmt.Errorf("formats: standard output: %w", err)
	}
	return nil
}

// WriteOutput writes one output stream: to stdout when path is "-",
// otherwise atomically to the file at path (WriteFileAtomic).
func WriteOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == StdoutPath {
		if err := CheckStdout("", stdout); err != nil {
			return err
		}
		return write(stdout)
	}
	return WriteFileAtomic(path, write)
}

// resolveOutput returns the file a write to path replaces: path itself,
// or the file its symlinks lead to. An existing non-regular file or a
// dangling symlink is an *OutputError.
func resolveOutput(path string) (string, error) {
	lst, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", fmt.Errorf("formats: %s: %w", path, err)
	}
	target := path
	if lst.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			link, _ := os.Readlink(path)
			return "", &OutputError{Output: NamedPath{Path: path}, Kind: ErrDanglingSymlink, What: "-> " + link}
		}
		target = resolved
		if lst, err = os.Stat(target); err != nil {
			return "", fmt.Errorf("formats: %s: %w", path, err)
		}
	}
	if !lst.Mode().IsRegular() {
		return "", &OutputError{Output: NamedPath{Path: path}, Kind: ErrNotRegularOutput, What: describeMode(lst.Mode())}
	}
	return target, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "a " + m.Type().String() + " file"
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
