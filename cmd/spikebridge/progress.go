package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// stepProgress reports a verb's few long steps (DAgger rounds, the T values
// of a comparison): a bar on a terminal, one plain line per step otherwise
// (CI, pipes, tests). It writes to stderr, never to the --json stdout.
type stepProgress struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
}

func newStepProgress(w io.Writer, label string, total int) *stepProgress {
	p := &stepProgress{w: w, label: label}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// at says that done steps are finished and what happens now.
func (p *stepProgress) at(done int, now string) {
	if p.bar != nil {
		p.bar.Describe(p.label + ": " + now)
		_ = p.bar.Set(done)
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, now)
}

// note prints a finished step's result on a line of its own (above the bar).
func (p *stepProgress) note(result string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, result)
}

// finish closes the bar.
func (p *stepProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
