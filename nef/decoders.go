package nef

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// DefaultEvalPoints is Nengo's default number of evaluation points for n
// neurons in d dimensions: max(clip(500·d, 750, 2500), 2·n).
func DefaultEvalPoints(n, d int) int {
	p := min(max(500*d, 750), 2500)
	return max(p, 2*n)
}

// UniformBallPoints draws count points uniformly from the unit ball in d
// dimensions, row-major (count, d).
func UniformBallPoints(count, d int, rng *rand.Rand) []float64 {
	pts := make([]float64, count*d)
	for p := 0; p < count; p++ {
		row := pts[p*d : (p+1)*d]
		norm := 0.0
		for k := range row {
			row[k] = rng.NormFloat64()
			norm += row[k] * row[k]
		}
		radius := math.Pow(rng.Float64(), 1/float64(d))
		scale := 0.0
		if norm > 0 {
			scale = radius / math.Sqrt(norm)
		}
		for k := range row {
			row[k] *= scale
		}
	}
	return pts
}

// SolveDecoders returns decoders (outDim, N) row-major that map the
// ensemble's rates at the evaluation points (count, D) to targets
// (count, outDim) by regularised least squares, as Nengo's LstsqL2 with its
// Cholesky solver: (AᵀA + m·σ²·I) X = AᵀY with σ = reg·max(A) and m the
// number of points. Decoders act on spike outputs of amplitude 1/dt.
func SolveDecoders(e *Ensemble, evalPoints, targets []float64, outDim int, reg float64) ([]float64, error) {
	if outDim <= 0 {
		return nil, fmt.Errorf("nef: decoders of %d output dimensions, want > 0", outDim)
	}
	if len(evalPoints) == 0 || len(evalPoints)%e.D != 0 {
		return nil, fmt.Errorf("nef: %d evaluation point values, want a positive multiple of %d dimensions", len(evalPoints), e.D)
	}
	m := len(evalPoints) / e.D
	if len(targets) != m*outDim {
		return nil, fmt.Errorf("nef: %d target values for %d points of %d dimensions", len(targets), m, outDim)
	}
	if !(reg >= 0) || math.IsInf(reg, 0) {
		return nil, fmt.Errorf("nef: regularisation %v, want >= 0", reg)
	}
	n := e.N
	A := mat.NewDense(m, n, nil)
	row := make([]float64, n)
	maxRate := 0.0
	for p := 0; p < m; p++ {
		e.Rates(row, evalPoints[p*e.D:(p+1)*e.D])
		for _, r := range row {
			maxRate = max(maxRate, r)
		}
		A.SetRow(p, row)
	}
	sigma := reg * maxRate
	var G mat.SymDense
	G.SymOuterK(1, A.T())
	for i := 0; i < n; i++ {
		G.SetSym(i, i, G.At(i, i)+float64(m)*sigma*sigma)
	}
	Y := mat.NewDense(m, outDim, append([]float64(nil), targets...))
	var B mat.Dense
	B.Mul(A.T(), Y)
	var chol mat.Cholesky
	if !chol.Factorize(&G) {
		return nil, fmt.Errorf("nef: decoder system of %d neurons is not positive definite (no neuron fires at the evaluation points, or reg = 0 with too few points)", n)
	}
	var X mat.Dense
	if err := chol.SolveTo(&X, &B); err != nil {
		return nil, fmt.Errorf("nef: solve decoders: %w", err)
	}
	dec := make([]float64, outDim*n)
	for o := 0; o < outDim; o++ {
		for i := 0; i < n; i++ {
			dec[o*n+i] = X.At(i, o)
		}
	}
	return dec, nil
}
