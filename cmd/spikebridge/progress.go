package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports a verb's long work on stderr, never on the --json
// stdout: a bar on a terminal, plain lines otherwise (CI, pipes, tests).
// Verbs with a few long steps (DAgger rounds, the T values of a
// comparison) print a line per step (at, note); training loops update it
// often and print a line at most every `every` and at the end (due).
type progress struct {
	w     io.Writer
	label string
	bar   *progressbar.ProgressBar
	every time.Duration
	start time.Time
	last  time.Time
	first int64 // done when the run (or its resumption) started
}

// newStepProgress is a progress of total steps with a line per step.
func newStepProgress(w io.Writer, label string, total int) *progress {
	return newProgress(w, label, int64(total), 0, 0, "")
}

// newProgress is a progress of total units (unit names them on the bar:
// "steps"), done of them already, printing plain lines at most every every
// (0: every 5 s).
func newProgress(w io.Writer, label string, total, done int64, every time.Duration, unit string) *progress {
	now := time.Now()
	p := &progress{w: w, label: label, every: every, start: now, last: now, first: done}
	if p.every <= 0 {
		p.every = 5 * time.Second
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		}
		if unit != "" {
			opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit))
		}
		p.bar = progressbar.NewOptions64(total, opts...)
		_ = p.bar.Set64(done)
	}
	return p
}

// at says that done steps are finished and what happens now.
func (p *progress) at(done int, now string) {
	if p.bar != nil {
		p.bar.Describe(p.label + ": " + now)
		_ = p.bar.Set(done)
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, now)
}

// note prints a finished step's result on a line of its own (above the bar).
func (p *progress) note(result string) {
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, result)
}

// due moves a bar to done with description desc and reports false; without
// a bar it reports whether a plain line is due (every has passed, or final)
// and, if so, restarts the interval.
func (p *progress) due(done int64, desc string, final bool) bool {
	if p.bar != nil {
		p.bar.Describe(desc)
		_ = p.bar.Set64(done)
		return false
	}
	now := time.Now()
	if now.Sub(p.last) < p.every && !final {
		return false
	}
	p.last = now
	return true
}

// rate is the units per second since the run (or its resumption) started.
func (p *progress) rate(done int64) float64 {
	return float64(done-p.first) / time.Since(p.start).Seconds()
}

// finish closes the bar.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
