// Package layering holds the tests that keep the tree's shape: every
// package's imports against the package table of DESIGN.md
// (layering_test.go), and the size limits of issue 18 (size_test.go: no
// file over 500 lines, no function over 80, cmd/spikebridge at most 2,500
// lines, tests and generated code aside, with listed exceptions). It has
// no code of its own.
package layering
