package workflow

import (
	"os"

	"github.com/spikebridge/spikebridge/formats"
)

// RunDirHold is a run directory held for one job (HoldRunDir); Release
// lets it go.
type RunDirHold struct {
	lock    *formats.RunDirLock
	created string // the directory, when HoldRunDir created it
}

// HoldRunDir opens dir for a job that writes a run directory
// (formats.OpenRunDir with RunDirWrites): it holds dir and the files there
// to the output rule against inputs, creates dir if missing and locks it.
// The hold comes back with an error too, so that Release undoes what was
// done.
func HoldRunDir(dir formats.NamedPath, inputs []formats.NamedPath) (*RunDirHold, error) {
	lock, created, err := formats.OpenRunDir(dir, inputs, RunDirWrites)
	hold := &RunDirHold{lock: lock}
	if created {
		hold.created = dir.Path
	}
	return hold, err
}

// Release unlocks the directory and removes it again if HoldRunDir
// created it and the job left it empty (a run that failed before writing
// anything leaves no directory behind). A nil hold releases nothing.
func (h *RunDirHold) Release() {
	if h == nil {
		return
	}
	h.lock.Unlock()
	if h.created != "" {
		_ = os.Remove(h.created) // fails on a directory that is not empty
	}
}
