package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The graph's loss and gradients must match finite differences of a plain-Go
// loss computed from model forward passes (an independent implementation).
func TestLossGraphGradientsMatchFiniteDifferences(t *testing.T) {
	for _, loss := range []string{"huber", "mse"} {
		t.Run(loss, func(t *testing.T) {
			const batch = 8
			p := newQParams([]int{4, 16, 8, 3})
			p.initTorchDefault(rand.New(rand.NewPCG(1, 2)))
			rng := rand.New(rand.NewPCG(3, 4))
			obs := make([]float32, batch*4)
			for i := range obs {
				obs[i] = float32(rng.NormFloat64())
			}
			actions := make([]int, batch)
			targets := make([]float32, batch)
			for i := range actions {
				actions[i] = rng.IntN(3)
				targets[i] = float32(rng.NormFloat64() * 2) // mixes |d| < 1 and > 1 for huber
			}
			lg, err := newLossGraph(p, batch, loss)
			if err != nil {
				t.Fatal(err)
			}
			lg.setInputs(obs, actions, targets)
			got, grads, err := lg.run()
			if err != nil {
				t.Fatal(err)
			}
			ref := func() float64 { return plainLoss(p, obs, actions, targets, loss) }
			if want := ref(); math.Abs(float64(got)-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("loss %v, plain Go %v", got, want)
			}
			for k, tens := range p.tensors() {
				for _, i := range []int{0, len(tens) / 2, len(tens) - 1} {
					old := tens[i]
					const h = 1e-2
					tens[i] = old + h
					up := ref()
					tens[i] = old - h
					down := ref()
					tens[i] = old
					fd := (up - down) / (2 * h)
					if math.Abs(float64(grads[k][i])-fd) > 2e-3*math.Max(1, math.Abs(fd)) {
						t.Errorf("tensor %d [%d]: gradient %v, finite difference %v", k, i, grads[k][i], fd)
					}
				}
			}
			// A second run on the same inputs gives the same numbers (graph reuse).
			first := append([]float32(nil), grads[0]...)
			if _, grads2, _ := lg.run(); grads2[0][3] != first[3] {
				t.Errorf("rerun changed gradients: %v vs %v", grads2[0][3], first[3])
			}
		})
	}
}

// plainLoss is the mean Huber (beta 1) or squared TD error in float64 from
// the plain-Go model forward.
func plainLoss(p *qParams, obs []float32, actions []int, targets []float32, loss string) float64 {
	net := p.network()
	ws := net.NewWorkspace(1)
	in, out := net.InputSize(), net.OutputSize()
	q := make([]float32, out)
	total := 0.0
	for s := range actions {
		net.Forward(q, obs[s*in:(s+1)*in], ws)
		d := float64(q[actions[s]]) - float64(targets[s])
		switch loss {
		case "mse":
			total += d * d
		default:
			if a := math.Abs(d); a < 1 {
				total += 0.5 * a * a
			} else {
				total += a - 0.5
			}
		}
	}
	return total / float64(len(actions))
}
