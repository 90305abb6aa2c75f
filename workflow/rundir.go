package workflow

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

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

// runStart is how a trainer's run directory starts or resumes (train dqn,
// train sqn): resuming needs the checkpoint and reads the settings back
// from config.json; a fresh run validates its settings, refuses a
// directory that already holds a run and writes config.json.
type runStart[C interface{ Validate() error }, T any] struct {
	Dir, Verb, ModelFile, Checkpoint string
	Resume, Force                    bool
	ReadConfig                       func(dir string, given C) (C, error)
	Fresh                            func(C) (T, error)
	Restore                          func(cfg C, checkpoint string) (T, error)
}

// start resumes the run or starts a fresh one with cfg.
func (r runStart[C, T]) start(cfg C) (T, C, error) {
	var none T
	if r.Resume {
		if _, err := os.Stat(r.Checkpoint); err != nil {
			return none, cfg, noCheckpoint(r.Dir)
		}
		cfg, err := r.ReadConfig(r.Dir, cfg)
		if err != nil {
			return none, cfg, err
		}
		tr, err := r.Restore(cfg, r.Checkpoint)
		return tr, cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return none, cfg, &OptionError{Invalid: true, Err: err}
	}
	if err := RefuseExistingRun(r.Dir, r.Force, r.ModelFile); err != nil {
		return none, cfg, err
	}
	tr, err := r.Fresh(cfg)
	if err != nil {
		return none, cfg, err
	}
	return tr, cfg, StartRunDir(r.Dir, r.Verb, cfg)
}

// RefuseExistingRun refuses a directory that already holds a training run
// (its checkpoint or model), unless force. A config.json alone is a run
// stopped before its first checkpoint: nothing to resume, so it may be
// started again (its config is rewritten).
func RefuseExistingRun(dir string, force bool, modelFile string) error {
	if force {
		return nil
	}
	for _, name := range []string{DQNCheckpointFile, modelFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return &RunExistsError{Dir: dir, File: name}
		}
	}
	return nil
}

// StartRunDir makes a fresh run's directory and writes its config.json.
func StartRunDir(dir, verb string, cfg any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %w", verb, err)
	}
	return WriteJSONFile(filepath.Join(dir, DQNConfigFile), cfg)
}

// WriteJSONFile writes v as indented JSON with a final newline (atomically).
func WriteJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return writeBytesAtomic(path, append(data, '\n'))
}
