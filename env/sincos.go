package env

import "math"

// CartPole's reference (gym, and ../shared/reference/cartpole.py) takes sin and cos
// from Python's math module, i.e. from glibc's libm. Those results are not correctly
// rounded (about 0.3 % of sin(x) and 0.01 % of cos(x) on |x| < 0.25 differ from the
// exact value rounded), and Go's math.Sin/math.Cos differ from them even more often
// (about 1.4 % and 25 %). One unit in the last place of sin(theta) grows through the
// unstable pendulum dynamics until it shows in the float32 observations, so sinPy and
// cosPy repeat libm's own evaluation: the same table (sincosTable), the same
// polynomial coefficients and the same order of operations, with a fused multiply-add
// wherever the x86-64 FMA build of glibc 2.36 (the one selected on any CPU with FMA)
// has one. Explicit float64 conversions keep the Go compiler from fusing anything else.
//
// Exactness covers |x| < 0.85546875 (49 degrees), far beyond CartPole's 12 degree
// failure angle; larger angles (only reachable through ResetTo) fall back to
// math.Sin/math.Cos, which are within one unit in the last place of libm.

//go:generate go test -run TestSincosTableIsComputed -update

// Where the numbers come from. sincosTable (sincos_table.go) is computed here, with
// math/big at 256 bits (sincos_table_test.go); libm's own copy is only a cross-check.
// The eleven coefficients below are glibc's (sysdeps/ieee754/dbl-64: s1..s5 of s_sin.c,
// sn3, sn5, cs2, cs4, cs6 of usncs.h, from IBM's Accurate Mathematical Library). They
// are not the Taylor coefficients (-1/6, 1/120, ...) but fitted values, and exactness
// with gym needs exactly these: a different last bit changes sin(theta) for some
// angles. They are numerical constants needed for interoperability; the Go below
// repeats glibc's order of operations, not its source text. See NOTICE.
const (
	// Series for sin on |x| < 0.126.
	sinS1 = -0x1.5555555555555p-3
	sinS2 = 0x1.1111111110ecep-7
	sinS3 = -0x1.a01a019db08b8p-13
	sinS4 = 0x1.71de27b9a7ed9p-19
	sinS5 = -0x1.addffc2fcdf59p-26
	// Series for sin and cos of the small remainder after the table look-up.
	tabSn3 = -0x1.5555555555515p-3
	tabSn5 = 0x1.11110e829872fp-7
	tabCs2 = 0x1.0000000000000p-1
	tabCs4 = -0x1.5555555555535p-5
	tabCs6 = 0x1.6c16bedd9e239p-10

	// Adding tableRound (1.5 * 2^45) rounds |x| to the nearest multiple of 1/128
	// and leaves that multiple's index in the low bits of the sum.
	tableRound = 0x1.8p45
	// Below sinSeriesLimit sin uses the series alone; below sincosTableLimit the table.
	sinSeriesLimit   = 0.126
	sincosTableLimit = 0.85546875
)

// sinPy returns sin(x) bit-identical to Python's math.sin on x86-64 glibc 2.36 (FMA
// build) for |x| < sincosTableLimit.
func sinPy(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case ax < 0x1p-26:
		return x
	case ax < sinSeriesLimit:
		xx := float64(x * x)
		p := math.FMA(math.FMA(math.FMA(math.FMA(sinS5, xx, sinS4), xx, sinS3), xx, sinS2), xx, sinS1)
		t := float64(float64(p*x) * xx) // libm adds the (zero) tail of x here: no change
		return x + t
	case ax < sincosTableLimit:
		u := ax + tableRound
		k := uint32(math.Float64bits(u))
		r := ax - float64(u-tableRound) // |r| <= 1/256
		// libm carries a zero tail dx whose sign makes exact zeros come out as it does.
		dx := 0.0
		if !(x > 0) {
			dx = math.Copysign(0, -1)
		}
		rr := float64(r * r)
		s := r + math.FMA(float64(r*rr), math.FMA(rr, tabSn5, tabSn3), dx)
		c := math.FMA(r, dx, float64(rr*math.FMA(math.FMA(rr, tabCs6, tabCs4), rr, tabCs2)))
		e := &sincosTable[k]
		sn, ssn, cs, ccs := e[0], e[1], e[2], e[3]
		cor := math.FMA(s, cs, math.FMA(-c, sn, math.FMA(s, ccs, ssn)))
		return math.Copysign(sn+cor, x)
	default:
		return math.Sin(x)
	}
}

// cosPy returns cos(x) bit-identical to Python's math.cos on x86-64 glibc 2.36 (FMA
// build) for |x| < sincosTableLimit.
func cosPy(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case ax < 0x1p-27:
		return 1
	case ax < sincosTableLimit:
		u := ax + tableRound
		k := uint32(math.Float64bits(u))
		dx := 0.0
		if !(x >= 0) {
			dx = math.Copysign(0, -1)
		}
		r := float64(ax-float64(u-tableRound)) + dx
		rr := float64(r * r)
		s := math.FMA(float64(r*rr), math.FMA(rr, tabSn5, tabSn3), r)
		c := float64(rr * math.FMA(math.FMA(rr, tabCs6, tabCs4), rr, tabCs2))
		e := &sincosTable[k]
		sn, ssn, cs, ccs := e[0], e[1], e[2], e[3]
		cor := math.FMA(-s, sn, math.FMA(-c, cs, math.FMA(-s, ssn, ccs)))
		return cs + cor
	default:
		return math.Cos(x)
	}
}
