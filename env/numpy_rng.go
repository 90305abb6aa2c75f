package env

import "math/bits"

// numpyRNG reproduces numpy's np.random.default_rng(seed) for an integer seed:
// SeedSequence(seed) -> PCG64 (128-bit LCG, XSL-RR output), and the double
// draws of Generator.random/uniform.
type numpyRNG struct {
	stateHi, stateLo uint64
	incHi, incLo     uint64
}

// PCG64's 128-bit LCG multiplier.
const (
	pcgMulHi = 0x2360ed051fc65da4
	pcgMulLo = 0x4385df649fccf645
)

// SeedSequence hashing constants (numpy/random/bit_generator.pyx).
const (
	seqInitA    = 0x43b0d7e5
	seqMultA    = 0x931e8875
	seqInitB    = 0x8b51f9dd
	seqMultB    = 0x58f38ded
	seqMixMultL = 0xca01f9dd
	seqMixMultR = 0x4973f715
	seqPoolSize = 4
)

func newNumpyRNG(seed uint64) numpyRNG {
	var r numpyRNG
	r.seed(seed)
	return r
}

// seed sets the generator to the state of np.random.default_rng(seed).
func (r *numpyRNG) seed(seed uint64) {
	// SeedSequence: the seed as little-endian 32-bit words (one word for seeds < 2^32).
	entropy := [2]uint32{uint32(seed), uint32(seed >> 32)}
	nEntropy := 1
	if seed>>32 != 0 {
		nEntropy = 2
	}
	hashConst := uint32(seqInitA)
	hashmix := func(v uint32) uint32 {
		v ^= hashConst
		hashConst *= seqMultA
		v *= hashConst
		return v ^ v>>16
	}
	mix := func(x, y uint32) uint32 {
		m := seqMixMultL*x - seqMixMultR*y
		return m ^ m>>16
	}
	var pool [seqPoolSize]uint32
	for i := range pool {
		if i < nEntropy {
			pool[i] = hashmix(entropy[i])
		} else {
			pool[i] = hashmix(0)
		}
	}
	for src := range pool {
		for dst := range pool {
			if src != dst {
				pool[dst] = mix(pool[dst], hashmix(pool[src]))
			}
		}
	}
	// generate_state(4, uint64): eight 32-bit words cycling over the pool.
	var words [8]uint32
	constB := uint32(seqInitB)
	for i := range words {
		v := pool[i%seqPoolSize] ^ constB
		constB *= seqMultB
		v *= constB
		words[i] = v ^ v>>16
	}
	var val [4]uint64
	for i := range val {
		val[i] = uint64(words[2*i]) | uint64(words[2*i+1])<<32
	}
	// pcg64_set_seed: state = val[0]:val[1], sequence = val[2]:val[3] (high:low).
	r.stateHi, r.stateLo = 0, 0
	r.incHi = val[2]<<1 | val[3]>>63
	r.incLo = val[3]<<1 | 1
	r.step()
	var carry uint64
	r.stateLo, carry = bits.Add64(r.stateLo, val[1], 0)
	r.stateHi, _ = bits.Add64(r.stateHi, val[0], carry)
	r.step()
}

// step advances the LCG: state = state*mul + inc (mod 2^128).
func (r *numpyRNG) step() {
	hi, lo := bits.Mul64(r.stateLo, pcgMulLo)
	hi += r.stateHi*pcgMulLo + r.stateLo*pcgMulHi
	var carry uint64
	r.stateLo, carry = bits.Add64(lo, r.incLo, 0)
	r.stateHi, _ = bits.Add64(hi, r.incHi, carry)
}

// uint64 is PCG64's next output (advance, then XSL-RR).
func (r *numpyRNG) uint64() uint64 {
	r.step()
	return bits.RotateLeft64(r.stateHi^r.stateLo, -int(r.stateHi>>58))
}

// float64 is numpy's random_standard_uniform: 53 random bits scaled into [0, 1).
func (r *numpyRNG) float64() float64 {
	return float64(r.uint64()>>11) * (1.0 / 9007199254740992.0)
}

// uniform is numpy's random_uniform: low + (high-low)*u, rounded step by step.
func (r *numpyRNG) uniform(low, high float64) float64 {
	span := high - low
	return low + float64(span*r.float64())
}
