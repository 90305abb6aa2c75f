package env

import "math"

// ReturnStats gives the mean, population standard deviation (numpy's
// default), minimum and maximum of episode returns; zeros for none.
func ReturnStats(returns []float64) (mean, std, lo, hi float64) {
	if len(returns) == 0 {
		return 0, 0, 0, 0
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, r := range returns {
		mean += r
		lo, hi = min(lo, r), max(hi, r)
	}
	mean /= float64(len(returns))
	for _, r := range returns {
		std += (r - mean) * (r - mean)
	}
	return mean, math.Sqrt(std / float64(len(returns))), lo, hi
}
