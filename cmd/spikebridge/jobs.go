package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/spikebridge/spikebridge/train"
	"github.com/spikebridge/spikebridge/workflow"
)

// How the verbs run workflow's jobs: the job run (runVerb) and its result
// printed (printResult), the jobs' errors named by the flags that set the
// options (flagErr), the flags given turned into settings to keep on
// --resume (configNames), and the jobs' progress shown with the verbs'
// progress type (stepLines, trainLines).

// runVerb runs a verb's work: runF where a test gave one, else run.
func runVerb[O any](runF, run func(O) error, opts O) error {
	if runF != nil {
		return runF(opts)
	}
	return run(opts)
}

// printResult prints a job's result on stdout: with --json (asJSON) as one
// JSON document (the result's own JSON bytes where it has them, as
// compare.json), else as writeText writes it for people.
func printResult(ios *IOStreams, asJSON bool, res any, writeText func(io.Writer) error) error {
	if !asJSON {
		return writeText(ios.Out)
	}
	doc, ok := res.(interface{ JSON() ([]byte, error) })
	if !ok {
		return json.NewEncoder(ios.Out).Encode(res)
	}
	data, err := doc.JSON()
	if err == nil {
		_, err = ios.Out.Write(data)
	}
	return err
}

// flagNames are the flags of workflow options whose flag is not the
// option's name in kebab case.
var flagNames = map[string]string{"Output": "-o/--output", "FromPyTorch": "--from-pytorch", "CompareSNN": "`compare --snn`",
	"ValFraction": "--val", "LRFinal": "--lr-final", "Length": "--window"}

var wordStart = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// flagErr maps a workflow error that names options to the flags that set
// them (a usage error where the value is wrong); other errors pass.
func flagErr(err error) error {
	var stage *workflow.StageError
	if errors.As(err, &stage) {
		if inner := flagErr(stage.Err); inner != stage.Err {
			return fmt.Errorf("%s: %w", stage.Prefix(), inner)
		}
		return err
	}
	var exists *workflow.RunExistsError
	var resume *workflow.ResumeError
	var stopped *workflow.InterruptedError
	var oe *workflow.OptionError
	switch {
	case errors.As(err, &exists):
		return fmt.Errorf("%s: use --resume to continue it or --force to start afresh", exists)
	case errors.As(err, &resume):
		return fmt.Errorf("--resume: %w", resume.Err)
	case errors.As(err, &stopped):
		return fmt.Errorf("%s, continue with --resume", stopped)
	case !errors.As(err, &oe):
		return err
	}
	var setting *train.SettingError
	if oe.Msg == "" && errors.As(oe.Err, &setting) {
		return flagError(setting)
	}
	msg := errors.New(oe.Text(flagName))
	if oe.Invalid {
		return usageError{msg}
	}
	return msg
}

// flagName is the flag that sets a workflow option (a Go field name).
func flagName(field string) string {
	if name, ok := flagNames[field]; ok {
		return name
	}
	return "--" + strings.ToLower(wordStart.ReplaceAllString(field, "$1-$2"))
}

// configNames are the config settings (JSON names) of the flags set on a
// command line: --resume takes them from the flags, the rest from config.json.
func configNames(changed map[string]bool) map[string]bool {
	set := map[string]bool{}
	for name := range changed {
		if name == "version" {
			name = "env"
		}
		set[strings.ReplaceAll(name, "-", "_")] = true
	}
	return set
}

// trainLines shows a training loop with the verbs' progress.
type trainLines struct {
	w     io.Writer
	every time.Duration
	p     *progress
}

func (t *trainLines) Begin(label string, total, done int64) {
	t.p = newProgress(t.w, label, total, done, t.every, "steps")
}
func (t *trainLines) End() { t.p.finish() }

// Step shows the Q-learning trainers' steps: a bar, or a line now and then.
func (t *trainLines) Step(pr train.Progress) {
	p := t.p
	desc := fmt.Sprintf("%s  ep %d  mean %.0f  eps %.2f", p.label, pr.Episodes, pr.MeanReturn, pr.Epsilon)
	if !p.due(pr.Step, desc, pr.Step == pr.Total) {
		return
	}
	best := ""
	if !math.IsNaN(pr.BestEval) {
		best = fmt.Sprintf("  best eval %.1f", pr.BestEval)
	}
	fmt.Fprintf(p.w, "%s: step %d/%d  episodes %d  mean return %.1f  eps %.3f%s  %.0f steps/s\n",
		p.label, pr.Step, pr.Total, pr.Episodes, pr.MeanReturn, pr.Epsilon, best, p.rate(pr.Step))
}

// stepLines shows a workflow job's steps with the verbs' progress.
type stepLines struct {
	w io.Writer
	p *progress
}

func (s *stepLines) Begin(label string, steps int) { s.p = newStepProgress(s.w, label, steps) }
func (s *stepLines) At(done int, what string)      { s.p.at(done, what) }
func (s *stepLines) Note(result string)            { s.p.note(result) }
func (s *stepLines) End()                          { s.p.finish() }
