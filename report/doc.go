// Package report turns the outputs of a run into figures people read.
//
// Plots are PNG files drawn with gonum/plot. Functions take plain slices
// (steps, returns, evaluation scores) and write to an io.Writer, so callers
// choose where the file goes and how it is written atomically. Drawing is
// deterministic: the same data give the same image.
package report
