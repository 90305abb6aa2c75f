// Package crosscheck holds tests that pin two packages of one tier to each
// other, which neither may import (DESIGN.md): convert's unit-scale
// conversion run on snn/ against train's simulation of a spiking forward
// model. It has no code of its own.
package crosscheck
