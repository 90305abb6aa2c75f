package learn

import (
	"fmt"
	"testing"
)

// BenchmarkChannelStep: one learning step of the channel network at sizes
// pre = post = n (the Nengo example is 50/50); steps/s = 1e9 / ns/op.
func BenchmarkChannelStep(b *testing.B) {
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprintf("neurons=%d", n), func(b *testing.B) {
			cfg := DefaultChannelConfig()
			cfg.PreNeurons, cfg.PostNeurons = n, n
			c, err := NewChannel(cfg)
			if err != nil {
				b.Fatal(err)
			}
			input := SineInput(1000, 1, 1, cfg.Dt)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % 1000
				c.Step(input[k : k+1])
			}
		})
	}
}

func TestChannelStepAllocatesNothing(t *testing.T) {
	c, err := NewChannel(DefaultChannelConfig())
	if err != nil {
		t.Fatal(err)
	}
	u := []float64{0.5}
	if a := testing.AllocsPerRun(100, func() { c.Step(u) }); a != 0 {
		t.Errorf("Channel.Step allocates %v times per step", a)
	}
}
