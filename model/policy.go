package model

// Argmax returns the index of the largest value; ties go to the lowest index
// (as torch.argmax and numpy.argmax do for the first maximum).
func Argmax(v []float32) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// QPolicy acts greedily on a Q-network: action = argmax Q(obs).
// It owns its buffers, so Act allocates nothing; one QPolicy per goroutine.
type QPolicy struct {
	net *Network
	ws  *Workspace
	q   []float32
}

// NewQPolicy wraps a network whose outputs are one Q-value per action.
func NewQPolicy(net *Network) *QPolicy {
	return &QPolicy{net: net, ws: net.NewWorkspace(1), q: make([]float32, net.OutputSize())}
}

// Act returns the greedy action for obs.
func (p *QPolicy) Act(obs []float32) int {
	p.net.Forward(p.q, obs, p.ws)
	return Argmax(p.q)
}

// Q returns the Q-values of the last Act call (shared; copy to keep).
func (p *QPolicy) Q() []float32 { return p.q }
