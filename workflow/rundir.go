package workflow

import "fmt"

// ResumeError says why a run directory cannot be continued: its config or
// checkpoint is missing, unreadable or does not fit. It names files and
// values; the CLI adds the flag (--resume) in front.
type ResumeError struct{ Err error }

func (e *ResumeError) Error() string { return e.Err.Error() }
func (e *ResumeError) Unwrap() error { return e.Err }

// resumeErrorf is a ResumeError with a formatted message.
func resumeErrorf(format string, args ...any) error {
	return &ResumeError{fmt.Errorf(format, args...)}
}

// RunExistsError refuses to start a run in a directory that already holds
// one (File is the file found there): continue it or start afresh.
type RunExistsError struct{ Dir, File string }

func (e *RunExistsError) Error() string {
	return fmt.Sprintf("%s already holds a run (%s)", e.Dir, e.File)
}

// noCheckpoint refuses to resume a run directory without a checkpoint: the
// run stopped before its first one (or never ran), so a fresh start is
// what continues it.
func noCheckpoint(dir string) error {
	return &OptionError{Invalid: true, Msg: "{Resume}: " + dir +
		" holds no checkpoint (the run stopped before its first one, or never ran): start it again without {Resume}"}
}
