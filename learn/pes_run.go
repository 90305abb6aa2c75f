package learn

import (
	"fmt"
	"math"
)

// SineInput returns steps samples of sin(2π·freq·t) in every one of d
// dimensions at t = (k+1)·dt, the times at which Nengo evaluates a Node in
// step k.
func SineInput(steps, d int, freqHz, dt float64) []float64 {
	u := make([]float64, steps*d)
	for k := 0; k < steps; k++ {
		v := math.Sin(2 * math.Pi * freqHz * float64(k+1) * dt)
		for o := 0; o < d; o++ {
			u[k*d+o] = v
		}
	}
	return u
}

// ChannelResult summarises a run of a channel.
type ChannelResult struct {
	Steps int `json:"steps"`
	// Decoded is Post's decoded output read in each step (steps, D).
	Decoded []float64 `json:"-"`
	// ErrorRMSE is the RMS of the error PES received over the last
	// second (or the whole run if shorter).
	ErrorRMSE float64 `json:"error_rmse_last_second"`
	// RMSE is the RMS of decoded − input after SettleSeconds.
	RMSE          float64 `json:"rmse_vs_input"`
	SettleSeconds float64 `json:"settle_seconds"`
}

// Run steps the channel through input (steps, D) and reports its decoded
// output, the RMS error PES saw over the last second, and the RMSE of the
// decoded output against the input after settle seconds.
func (c *Channel) Run(input []float64, settle float64) (ChannelResult, error) {
	d := c.Config.Dimensions
	if len(input) == 0 || len(input)%d != 0 {
		return ChannelResult{}, fmt.Errorf("learn: channel input of %d values, want a positive multiple of %d dimensions", len(input), d)
	}
	steps := len(input) / d
	res := ChannelResult{Steps: steps, Decoded: make([]float64, steps*d), SettleSeconds: settle}
	lastSecond := steps - int(math.Round(1/c.Config.Dt))
	start := int(math.Round(settle / c.Config.Dt))
	var errSq, sq float64
	var errN, n int
	for k := 0; k < steps; k++ {
		copy(res.Decoded[k*d:(k+1)*d], c.Decoded())
		c.Step(input[k*d : (k+1)*d])
		for o := 0; o < d; o++ {
			if k >= lastSecond {
				errSq += c.Error[o] * c.Error[o]
				errN++
			}
			if k >= start {
				e := res.Decoded[k*d+o] - input[k*d+o]
				sq += e * e
				n++
			}
		}
	}
	if errN > 0 {
		res.ErrorRMSE = math.Sqrt(errSq / float64(errN))
	}
	if n > 0 {
		res.RMSE = math.Sqrt(sq / float64(n))
	} else {
		res.RMSE = math.NaN()
	}
	return res, nil
}
