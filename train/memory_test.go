package train

import "testing"

// TestMemoryEstimates: the estimates by hand. A DQN with buffer 100, batch
// 10, one hidden layer of 8: 100*11*8 buffer bytes, 10*(4+2+8)*4*16
// activation bytes, and ((4+1)*8 + (8+1)*2)*4*8 weight bytes.
func TestMemoryEstimates(t *testing.T) {
	c := Config{Buffer: 100, Batch: 10, Hidden: []int{8}}
	if got, want := c.MemoryBytes(0), 100.0*11*8+10*14*64+58*32; got != want {
		t.Errorf("DQN: %v bytes, want %v", got, want)
	}
	if got, want := c.MemoryBytes(3), 100.0*11*8+10*14*64*3+58*32; got != want {
		t.Errorf("SQN at T=3: %v bytes, want %v", got, want)
	}
	if got, want := MLPTrainingBytes([]int{8}, 10, 3), (65.0*8+9*64)*32+10*136*64*3; got != want {
		t.Errorf("MLP: %v bytes, want %v", got, want)
	}
}
