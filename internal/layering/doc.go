// Package layering holds the test that checks every package's imports
// against the package table of DESIGN.md. It has no code of its own.
package layering
