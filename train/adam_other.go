//go:build !amd64

package train

// adamAVX is false: no vector Adam kernel on this architecture.
var adamAVX = false

// adamStepVec has no vector kernel on this architecture: the scalar loop
// does every element.
func adamStepVec(p, g, m, v []float32, c *[7]float32) int { return 0 }
