package learn

// backwardBPTT sums the exact gradient of the sequence's loss (and of the
// firing-rate regulariser c_reg/2 Σ_j (f_j − f_target)², whose derivative is
// e-prop's reg_j) through the surrogate ∂z/∂v = ψ, ∂z/∂a = −βψ into g:
// backpropagation through time of the same network and loss that e-prop
// approximates. Going backwards from the last step, with δv, δa the
// gradients of the next step's membrane and adaptation:
//
//	δz_j^t = (1−κ) Σ_k Wout_kj δy_k^t + Σ_i Wrec_ij δv_i^(t+1) − v_th δv_j^(t+1) + δa_j^(t+1) + reg_j
//	δv^t = ψ^t δz^t + α δv^(t+1);  δa^t = −β ψ^t δz^t + ρ δa^(t+1);  δy^t = err^t/W + κ δy^(t+1)
//
// and ∂L/∂Win_ji = Σ_t δv_j^t x_i^t, ∂L/∂Wrec_ji = Σ_t δv_j^t z_i^(t−1),
// ∂L/∂Wout_kj = (1−κ) Σ_t δy_k^t z_j^t (e-prop's readout gradient is exact
// already). Unlike e-prop it pays a dense Wrecᵀδv product every step.
func (w *worker) backwardBPTT(e *Eprop, steps, windowStart int, g *sampleGrad) {
	net := e.Net
	N, K := net.Neurons, net.Outputs
	window := float64(e.Config.LossWindow)
	kappa, alpha, rho, vth := net.ReadoutLeak, net.Leak, net.AdaptationDecay, net.Threshold
	beta, wRec, wOut := net.Adaptation, net.RecurrentWeights, net.OutputWeights
	dv, da, errSum, back := w.trace, w.adjoint, w.errFilt, w.learnSig
	clear(dv)
	clear(da)
	clear(errSum)
	for t := steps - 1; t >= 0; t-- {
		errT := w.err[t*K : (t+1)*K]
		psi := w.psi[t*N : (t+1)*N]
		for k := range errSum {
			errSum[k] = errT[k] + kappa*errSum[k] // W δy^t
		}
		for p := w.firedStart[t]; p < w.firedStart[t+1]; p++ {
			j := int(w.firedIdx[p])
			col := g.outT[j*K : (j+1)*K]
			for k, v := range errSum {
				col[k] += v
			}
		}
		// Spikes of step t reached the membranes of step t+1 (dv holds δv^(t+1)).
		for p := w.firedStart[t]; p < w.firedStart[t+1]; p++ {
			i := int(w.firedIdx[p])
			col := g.recT[i*N : (i+1)*N]
			for j, v := range dv {
				col[j] += v
			}
		}
		clear(back)
		for i, d := range dv {
			if d == 0 {
				continue
			}
			row := wRec[i*N : (i+1)*N]
			for j, wij := range row {
				back[j] += wij * d
			}
		}
		for j := 0; j < N; j++ {
			readout := 0.0
			for k := 0; k < K; k++ {
				readout += wOut[k*N+j] * errSum[k]
			}
			dz := (1-kappa)*readout/window + back[j] - vth*dv[j] + da[j] + w.reg[j]
			pd := psi[j] * dz
			dv[j] = pd + alpha*dv[j]
			da[j] = -beta[j]*pd + rho*da[j]
		}
		for p := w.inStart[t]; p < w.inStart[t+1]; p++ {
			i, xi := int(w.inIdx[p]), w.inVal[p]
			col := g.inputT[i*N : (i+1)*N]
			for j, v := range dv {
				col[j] += xi * v
			}
		}
	}
}
