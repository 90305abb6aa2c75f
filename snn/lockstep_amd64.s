#include "textflag.h"

// Lockstep kernels (lockstep.go): AVX, 256-bit registers. A block is 128 bytes
// of a lane row (16 float64 or 32 float32 lanes) held in four registers; the
// float64 and float32 kernels are the same code with PD/SD or PS/SS and 8- or
// 4-byte scalars. Masked-off terms are exact identities (v - (+0) = v), so
// every lane gets the per-sample path's operations in its order.
//
// lockArgs offsets: v 0, drive 8, th 16, wNeg 24, wPos 32, pm 40, nm 48,
// fire 56, count 64, in 72, out 80, lanes 88, leak 96, one 104, flags 112.
// Flags: 1 drive lanes, 2 integrator, 4 reset to zero, 8 same step,
// 16 negative spikes, 32 leaky.
// lockEncArgs offsets: enc 0, cur 8, pm 16, nm 24, count 32, in 40, lanes 48,
// th 56, negTh 64, one 72, flags 80.

// func lockLayer64(a *lockArgs)
TEXT ·lockLayer64(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 88(AX), R8
	SHLQ $3, R8        // row bytes
	MOVQ 112(AX), R9        // flags
	MOVQ 80(AX), R11
	SHLQ $3, R11       // (in, out) row bytes
	MOVQ 0(AX), DI          // v
	XORQ R10, R10           // block offset in a row

l64block:
	XORQ CX, CX             // neuron o
	MOVQ R10, R12           // o*rowBytes + block offset

l64neuron:
	VMOVUPD (DI)(R12*1), Y0
	VMOVUPD 32(DI)(R12*1), Y1
	VMOVUPD 64(DI)(R12*1), Y2
	VMOVUPD 96(DI)(R12*1), Y3
	TESTQ $32, R9
	JZ    l64drive
	VBROADCASTSD 96(AX), Y8
	VMULPD Y8, Y0, Y0
	VMULPD Y8, Y1, Y1
	VMULPD Y8, Y2, Y2
	VMULPD Y8, Y3, Y3

l64drive:
	MOVQ  8(AX), SI
	TESTQ $1, R9
	JZ    l64bias
	VADDPD (SI)(R12*1), Y0, Y0
	VADDPD 32(SI)(R12*1), Y1, Y1
	VADDPD 64(SI)(R12*1), Y2, Y2
	VADDPD 96(SI)(R12*1), Y3, Y3
	JMP   l64fire1

l64bias:
	VBROADCASTSD (SI)(CX*8), Y8
	VADDPD Y8, Y0, Y0
	VADDPD Y8, Y1, Y1
	VADDPD Y8, Y2, Y2
	VADDPD Y8, Y3, Y3

l64fire1:
	TESTQ $2, R9
	JNZ   l64columns
	MOVQ  16(AX), SI
	VBROADCASTSD (SI)(CX*8), Y10 // threshold
	TESTQ $8, R9
	JNZ   l64columns
	VCMPPD $0x1D, Y10, Y0, Y4   // v >= th (ordered, as Go's >=)
	VCMPPD $0x1D, Y10, Y1, Y5
	VCMPPD $0x1D, Y10, Y2, Y6
	VCMPPD $0x1D, Y10, Y3, Y7

l64columns:
	MOVQ  72(AX), DX
	TESTQ DX, DX
	JZ    l64after
	MOVQ  24(AX), BX
	LEAQ  (BX)(CX*8), BX        // -W^T[0, o]
	MOVQ  40(AX), SI
	ADDQ  R10, SI                  // pm[0] block

l64pos:
	VBROADCASTSD (BX), Y8
	VANDPD (SI), Y8, Y9
	VSUBPD Y9, Y0, Y0
	VANDPD 32(SI), Y8, Y11
	VSUBPD Y11, Y1, Y1
	VANDPD 64(SI), Y8, Y12
	VSUBPD Y12, Y2, Y2
	VANDPD 96(SI), Y8, Y13
	VSUBPD Y13, Y3, Y3
	ADDQ R11, BX
	ADDQ R8, SI
	DECQ DX
	JNZ  l64pos
	TESTQ $16, R9
	JZ    l64after
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX
	LEAQ  (BX)(CX*8), BX        // W^T[0, o]
	MOVQ  48(AX), SI
	ADDQ  R10, SI                  // nm[0] block

l64neg:
	VBROADCASTSD (BX), Y8
	VANDPD (SI), Y8, Y9
	VSUBPD Y9, Y0, Y0
	VANDPD 32(SI), Y8, Y11
	VSUBPD Y11, Y1, Y1
	VANDPD 64(SI), Y8, Y12
	VSUBPD Y12, Y2, Y2
	VANDPD 96(SI), Y8, Y13
	VSUBPD Y13, Y3, Y3
	ADDQ R11, BX
	ADDQ R8, SI
	DECQ DX
	JNZ  l64neg

l64after:
	TESTQ $2, R9
	JNZ   l64store
	TESTQ $8, R9
	JZ    l64reset
	VCMPPD $0x1D, Y10, Y0, Y4
	VCMPPD $0x1D, Y10, Y1, Y5
	VCMPPD $0x1D, Y10, Y2, Y6
	VCMPPD $0x1D, Y10, Y3, Y7

l64reset:
	MOVQ    56(AX), SI
	VMOVUPD Y4, (SI)(R12*1)
	VMOVUPD Y5, 32(SI)(R12*1)
	VMOVUPD Y6, 64(SI)(R12*1)
	VMOVUPD Y7, 96(SI)(R12*1)
	TESTQ   $4, R9
	JZ      l64subtract
	VANDNPD Y0, Y4, Y0         // v = 0 where fired
	VANDNPD Y1, Y5, Y1
	VANDNPD Y2, Y6, Y2
	VANDNPD Y3, Y7, Y3
	JMP     l64count

l64subtract:
	VANDPD Y10, Y4, Y9
	VSUBPD Y9, Y0, Y0
	VANDPD Y10, Y5, Y11
	VSUBPD Y11, Y1, Y1
	VANDPD Y10, Y6, Y12
	VSUBPD Y12, Y2, Y2
	VANDPD Y10, Y7, Y13
	VSUBPD Y13, Y3, Y3

l64count:
	VBROADCASTSD 104(AX), Y8
	MOVQ    64(AX), SI
	VANDPD Y8, Y4, Y9
	VADDPD (SI)(R12*1), Y9, Y9
	VMOVUPD Y9, (SI)(R12*1)
	VANDPD Y8, Y5, Y11
	VADDPD 32(SI)(R12*1), Y11, Y11
	VMOVUPD Y11, 32(SI)(R12*1)
	VANDPD Y8, Y6, Y12
	VADDPD 64(SI)(R12*1), Y12, Y12
	VMOVUPD Y12, 64(SI)(R12*1)
	VANDPD Y8, Y7, Y13
	VADDPD 96(SI)(R12*1), Y13, Y13
	VMOVUPD Y13, 96(SI)(R12*1)

l64store:
	VMOVUPD Y0, (DI)(R12*1)
	VMOVUPD Y1, 32(DI)(R12*1)
	VMOVUPD Y2, 64(DI)(R12*1)
	VMOVUPD Y3, 96(DI)(R12*1)
	ADDQ R8, R12
	INCQ CX
	CMPQ CX, 80(AX)
	JLT  l64neuron
	ADDQ $128, R10
	CMPQ R10, R8
	JLT  l64block
	VZEROUPPER
	RET

// func lockEncode64(a *lockEncArgs)
// The Rate encoder over all [in] rows at once (they are contiguous).
TEXT ·lockEncode64(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 48(AX), R8
	SHLQ $3, R8
	MOVQ 40(AX), CX
	IMULQ R8, CX            // bytes of all rows
	MOVQ 80(AX), R9
	VBROADCASTSD 56(AX), Y10 // th
	VBROADCASTSD 64(AX), Y14 // -th
	VBROADCASTSD 72(AX), Y15 // one
	MOVQ 0(AX), DI
	MOVQ 8(AX), SI
	MOVQ 16(AX), BX
	MOVQ 24(AX), DX
	MOVQ 32(AX), R11
	XORQ R12, R12

e64block:
	VMOVUPD (DI)(R12*1), Y0
	VMOVUPD 32(DI)(R12*1), Y1
	VMOVUPD 64(DI)(R12*1), Y2
	VMOVUPD 96(DI)(R12*1), Y3
	VADDPD (SI)(R12*1), Y0, Y0     // x = v + Gain*x
	VADDPD 32(SI)(R12*1), Y1, Y1
	VADDPD 64(SI)(R12*1), Y2, Y2
	VADDPD 96(SI)(R12*1), Y3, Y3
	VCMPPD $0x1D, Y10, Y0, Y4      // x >= th
	VCMPPD $0x1D, Y10, Y1, Y5
	VCMPPD $0x1D, Y10, Y2, Y6
	VCMPPD $0x1D, Y10, Y3, Y7
	VMOVUPD Y4, (BX)(R12*1)
	VMOVUPD Y5, 32(BX)(R12*1)
	VMOVUPD Y6, 64(BX)(R12*1)
	VMOVUPD Y7, 96(BX)(R12*1)
	VANDPD Y10, Y4, Y8
	VSUBPD Y8, Y0, Y0
	VANDPD Y10, Y5, Y9
	VSUBPD Y9, Y1, Y1
	VANDPD Y10, Y6, Y11
	VSUBPD Y11, Y2, Y2
	VANDPD Y10, Y7, Y12
	VSUBPD Y12, Y3, Y3
	VANDPD Y15, Y4, Y4             // spike counts
	VANDPD Y15, Y5, Y5
	VANDPD Y15, Y6, Y6
	VANDPD Y15, Y7, Y7
	VADDPD (R11)(R12*1), Y4, Y4
	VADDPD 32(R11)(R12*1), Y5, Y5
	VADDPD 64(R11)(R12*1), Y6, Y6
	VADDPD 96(R11)(R12*1), Y7, Y7
	TESTQ $16, R9
	JZ    e64store
	VCMPPD $0x12, Y14, Y0, Y8      // v <= -th
	VCMPPD $0x12, Y14, Y1, Y9
	VCMPPD $0x12, Y14, Y2, Y11
	VCMPPD $0x12, Y14, Y3, Y12
	VMOVUPD Y8, (DX)(R12*1)
	VMOVUPD Y9, 32(DX)(R12*1)
	VMOVUPD Y11, 64(DX)(R12*1)
	VMOVUPD Y12, 96(DX)(R12*1)
	VANDPD Y14, Y8, Y13            // v - (-th) = v + th
	VSUBPD Y13, Y0, Y0
	VANDPD Y14, Y9, Y13
	VSUBPD Y13, Y1, Y1
	VANDPD Y14, Y11, Y13
	VSUBPD Y13, Y2, Y2
	VANDPD Y14, Y12, Y13
	VSUBPD Y13, Y3, Y3
	VANDPD Y15, Y8, Y8
	VADDPD Y8, Y4, Y4
	VANDPD Y15, Y9, Y9
	VADDPD Y9, Y5, Y5
	VANDPD Y15, Y11, Y11
	VADDPD Y11, Y6, Y6
	VANDPD Y15, Y12, Y12
	VADDPD Y12, Y7, Y7

e64store:
	VMOVUPD Y0, (DI)(R12*1)
	VMOVUPD Y1, 32(DI)(R12*1)
	VMOVUPD Y2, 64(DI)(R12*1)
	VMOVUPD Y3, 96(DI)(R12*1)
	VMOVUPD Y4, (R11)(R12*1)
	VMOVUPD Y5, 32(R11)(R12*1)
	VMOVUPD Y6, 64(R11)(R12*1)
	VMOVUPD Y7, 96(R11)(R12*1)
	ADDQ $128, R12
	CMPQ R12, CX
	JLT  e64block
	VZEROUPPER
	RET

// func lockLayer32(a *lockArgs)
TEXT ·lockLayer32(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 88(AX), R8
	SHLQ $2, R8        // row bytes
	MOVQ 112(AX), R9        // flags
	MOVQ 80(AX), R11
	SHLQ $2, R11       // (in, out) row bytes
	MOVQ 0(AX), DI          // v
	XORQ R10, R10           // block offset in a row

l32block:
	XORQ CX, CX             // neuron o
	MOVQ R10, R12           // o*rowBytes + block offset

l32neuron:
	VMOVUPS (DI)(R12*1), Y0
	VMOVUPS 32(DI)(R12*1), Y1
	VMOVUPS 64(DI)(R12*1), Y2
	VMOVUPS 96(DI)(R12*1), Y3
	TESTQ $32, R9
	JZ    l32drive
	VBROADCASTSS 96(AX), Y8
	VMULPS Y8, Y0, Y0
	VMULPS Y8, Y1, Y1
	VMULPS Y8, Y2, Y2
	VMULPS Y8, Y3, Y3

l32drive:
	MOVQ  8(AX), SI
	TESTQ $1, R9
	JZ    l32bias
	VADDPS (SI)(R12*1), Y0, Y0
	VADDPS 32(SI)(R12*1), Y1, Y1
	VADDPS 64(SI)(R12*1), Y2, Y2
	VADDPS 96(SI)(R12*1), Y3, Y3
	JMP   l32fire1

l32bias:
	VBROADCASTSS (SI)(CX*4), Y8
	VADDPS Y8, Y0, Y0
	VADDPS Y8, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y8, Y3, Y3

l32fire1:
	TESTQ $2, R9
	JNZ   l32columns
	MOVQ  16(AX), SI
	VBROADCASTSS (SI)(CX*4), Y10 // threshold
	TESTQ $8, R9
	JNZ   l32columns
	VCMPPS $0x1D, Y10, Y0, Y4   // v >= th (ordered, as Go's >=)
	VCMPPS $0x1D, Y10, Y1, Y5
	VCMPPS $0x1D, Y10, Y2, Y6
	VCMPPS $0x1D, Y10, Y3, Y7

l32columns:
	MOVQ  72(AX), DX
	TESTQ DX, DX
	JZ    l32after
	MOVQ  24(AX), BX
	LEAQ  (BX)(CX*4), BX        // -W^T[0, o]
	MOVQ  40(AX), SI
	ADDQ  R10, SI                  // pm[0] block

l32pos:
	VBROADCASTSS (BX), Y8
	VANDPS (SI), Y8, Y9
	VSUBPS Y9, Y0, Y0
	VANDPS 32(SI), Y8, Y11
	VSUBPS Y11, Y1, Y1
	VANDPS 64(SI), Y8, Y12
	VSUBPS Y12, Y2, Y2
	VANDPS 96(SI), Y8, Y13
	VSUBPS Y13, Y3, Y3
	ADDQ R11, BX
	ADDQ R8, SI
	DECQ DX
	JNZ  l32pos
	TESTQ $16, R9
	JZ    l32after
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX
	LEAQ  (BX)(CX*4), BX        // W^T[0, o]
	MOVQ  48(AX), SI
	ADDQ  R10, SI                  // nm[0] block

l32neg:
	VBROADCASTSS (BX), Y8
	VANDPS (SI), Y8, Y9
	VSUBPS Y9, Y0, Y0
	VANDPS 32(SI), Y8, Y11
	VSUBPS Y11, Y1, Y1
	VANDPS 64(SI), Y8, Y12
	VSUBPS Y12, Y2, Y2
	VANDPS 96(SI), Y8, Y13
	VSUBPS Y13, Y3, Y3
	ADDQ R11, BX
	ADDQ R8, SI
	DECQ DX
	JNZ  l32neg

l32after:
	TESTQ $2, R9
	JNZ   l32store
	TESTQ $8, R9
	JZ    l32reset
	VCMPPS $0x1D, Y10, Y0, Y4
	VCMPPS $0x1D, Y10, Y1, Y5
	VCMPPS $0x1D, Y10, Y2, Y6
	VCMPPS $0x1D, Y10, Y3, Y7

l32reset:
	MOVQ    56(AX), SI
	VMOVUPS Y4, (SI)(R12*1)
	VMOVUPS Y5, 32(SI)(R12*1)
	VMOVUPS Y6, 64(SI)(R12*1)
	VMOVUPS Y7, 96(SI)(R12*1)
	TESTQ   $4, R9
	JZ      l32subtract
	VANDNPS Y0, Y4, Y0         // v = 0 where fired
	VANDNPS Y1, Y5, Y1
	VANDNPS Y2, Y6, Y2
	VANDNPS Y3, Y7, Y3
	JMP     l32count

l32subtract:
	VANDPS Y10, Y4, Y9
	VSUBPS Y9, Y0, Y0
	VANDPS Y10, Y5, Y11
	VSUBPS Y11, Y1, Y1
	VANDPS Y10, Y6, Y12
	VSUBPS Y12, Y2, Y2
	VANDPS Y10, Y7, Y13
	VSUBPS Y13, Y3, Y3

l32count:
	VBROADCASTSS 104(AX), Y8
	MOVQ    64(AX), SI
	VANDPS Y8, Y4, Y9
	VADDPS (SI)(R12*1), Y9, Y9
	VMOVUPS Y9, (SI)(R12*1)
	VANDPS Y8, Y5, Y11
	VADDPS 32(SI)(R12*1), Y11, Y11
	VMOVUPS Y11, 32(SI)(R12*1)
	VANDPS Y8, Y6, Y12
	VADDPS 64(SI)(R12*1), Y12, Y12
	VMOVUPS Y12, 64(SI)(R12*1)
	VANDPS Y8, Y7, Y13
	VADDPS 96(SI)(R12*1), Y13, Y13
	VMOVUPS Y13, 96(SI)(R12*1)

l32store:
	VMOVUPS Y0, (DI)(R12*1)
	VMOVUPS Y1, 32(DI)(R12*1)
	VMOVUPS Y2, 64(DI)(R12*1)
	VMOVUPS Y3, 96(DI)(R12*1)
	ADDQ R8, R12
	INCQ CX
	CMPQ CX, 80(AX)
	JLT  l32neuron
	ADDQ $128, R10
	CMPQ R10, R8
	JLT  l32block
	VZEROUPPER
	RET

// func lockEncode32(a *lockEncArgs)
// The Rate encoder over all [in] rows at once (they are contiguous).
TEXT ·lockEncode32(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 48(AX), R8
	SHLQ $2, R8
	MOVQ 40(AX), CX
	IMULQ R8, CX            // bytes of all rows
	MOVQ 80(AX), R9
	VBROADCASTSS 56(AX), Y10 // th
	VBROADCASTSS 64(AX), Y14 // -th
	VBROADCASTSS 72(AX), Y15 // one
	MOVQ 0(AX), DI
	MOVQ 8(AX), SI
	MOVQ 16(AX), BX
	MOVQ 24(AX), DX
	MOVQ 32(AX), R11
	XORQ R12, R12

e32block:
	VMOVUPS (DI)(R12*1), Y0
	VMOVUPS 32(DI)(R12*1), Y1
	VMOVUPS 64(DI)(R12*1), Y2
	VMOVUPS 96(DI)(R12*1), Y3
	VADDPS (SI)(R12*1), Y0, Y0     // x = v + Gain*x
	VADDPS 32(SI)(R12*1), Y1, Y1
	VADDPS 64(SI)(R12*1), Y2, Y2
	VADDPS 96(SI)(R12*1), Y3, Y3
	VCMPPS $0x1D, Y10, Y0, Y4      // x >= th
	VCMPPS $0x1D, Y10, Y1, Y5
	VCMPPS $0x1D, Y10, Y2, Y6
	VCMPPS $0x1D, Y10, Y3, Y7
	VMOVUPS Y4, (BX)(R12*1)
	VMOVUPS Y5, 32(BX)(R12*1)
	VMOVUPS Y6, 64(BX)(R12*1)
	VMOVUPS Y7, 96(BX)(R12*1)
	VANDPS Y10, Y4, Y8
	VSUBPS Y8, Y0, Y0
	VANDPS Y10, Y5, Y9
	VSUBPS Y9, Y1, Y1
	VANDPS Y10, Y6, Y11
	VSUBPS Y11, Y2, Y2
	VANDPS Y10, Y7, Y12
	VSUBPS Y12, Y3, Y3
	VANDPS Y15, Y4, Y4             // spike counts
	VANDPS Y15, Y5, Y5
	VANDPS Y15, Y6, Y6
	VANDPS Y15, Y7, Y7
	VADDPS (R11)(R12*1), Y4, Y4
	VADDPS 32(R11)(R12*1), Y5, Y5
	VADDPS 64(R11)(R12*1), Y6, Y6
	VADDPS 96(R11)(R12*1), Y7, Y7
	TESTQ $16, R9
	JZ    e32store
	VCMPPS $0x12, Y14, Y0, Y8      // v <= -th
	VCMPPS $0x12, Y14, Y1, Y9
	VCMPPS $0x12, Y14, Y2, Y11
	VCMPPS $0x12, Y14, Y3, Y12
	VMOVUPS Y8, (DX)(R12*1)
	VMOVUPS Y9, 32(DX)(R12*1)
	VMOVUPS Y11, 64(DX)(R12*1)
	VMOVUPS Y12, 96(DX)(R12*1)
	VANDPS Y14, Y8, Y13            // v - (-th) = v + th
	VSUBPS Y13, Y0, Y0
	VANDPS Y14, Y9, Y13
	VSUBPS Y13, Y1, Y1
	VANDPS Y14, Y11, Y13
	VSUBPS Y13, Y2, Y2
	VANDPS Y14, Y12, Y13
	VSUBPS Y13, Y3, Y3
	VANDPS Y15, Y8, Y8
	VADDPS Y8, Y4, Y4
	VANDPS Y15, Y9, Y9
	VADDPS Y9, Y5, Y5
	VANDPS Y15, Y11, Y11
	VADDPS Y11, Y6, Y6
	VANDPS Y15, Y12, Y12
	VADDPS Y12, Y7, Y7

e32store:
	VMOVUPS Y0, (DI)(R12*1)
	VMOVUPS Y1, 32(DI)(R12*1)
	VMOVUPS Y2, 64(DI)(R12*1)
	VMOVUPS Y3, 96(DI)(R12*1)
	VMOVUPS Y4, (R11)(R12*1)
	VMOVUPS Y5, 32(R11)(R12*1)
	VMOVUPS Y6, 64(R11)(R12*1)
	VMOVUPS Y7, 96(R11)(R12*1)
	ADDQ $128, R12
	CMPQ R12, CX
	JLT  e32block
	VZEROUPPER
	RET

// AVX-512 kernels: the same computation with merge masking. A block is 16
// lanes (2 ZMM of float64, 1 of float32); spike masks are uint16 lane bits,
// one per (row, block), so a masked-off lane is simply not written and a
// spike adds the weight itself. Layers skip presynaptic rows that are silent
// in the whole block, and go through them for four neurons at a time
// (independent chains of additions); the float32 layer kernel takes two
// blocks per pass (a row is skipped when silent in both). lockArgs.list (offset 120) is the kernel's scratch of
// 2*in words.

// func lockLayer64x(a *lockArgs)
TEXT ·lockLayer64x(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 88(AX), R8
	SHLQ $3, R8        // row bytes
	LEAQ (R8)(R8*2), R9    // 3 rows
	MOVQ 80(AX), R11
	SHLQ $3, R11       // (in, out) row bytes
	MOVQ 0(AX), DI         // v
	VBROADCASTSD 104(AX), Z11 // one
	VBROADCASTSD 96(AX), Z20  // leak
	VXORPD Z9, Z9, Z9     // +0
	XORQ R10, R10          // block offset in a row
	XORQ R15, R15          // block offset in a mask row

x64block:
	// The presynaptic rows with a spike in this block, as (mask address,
	// weight row address) pairs; silent rows are skipped for every neuron.
	MOVQ 72(AX), DX        // in
	MOVQ 120(AX), R13      // list
	XORQ R14, R14          // list length in words
	TESTQ DX, DX
	JZ   x64listed
	MOVQ 40(AX), SI
	ADDQ R15, SI           // pm[0] block mask
	MOVQ 32(AX), BX        // W^T row 0
	MOVQ 88(AX), R12
	SHRQ $3, R12           // mask row bytes (2 per block of 16 lanes)
x64list:
	MOVQ SI, (R13)(R14*8)
	MOVQ BX, 8(R13)(R14*8)
	MOVWLZX (SI), CX
	NEGL CX
	SBBQ CX, CX            // -1 if any lane fired
	ANDQ $2, CX
	ADDQ CX, R14
	ADDQ R12, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x64list
x64listed:
	SHRQ $1, R14           // pairs
	XORQ CX, CX            // neuron o
	MOVQ R10, R12          // o*rowBytes + block offset
x64groups:
	LEAQ 4(CX), DX
	CMPQ DX, 80(AX)
	JGT  x64singles
x64g:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPD (BX), Z0
	VMOVUPD 64(BX), Z1
	VMOVUPD (BX)(R8*1), Z2
	VMOVUPD 64(BX)(R8*1), Z3
	VMOVUPD (BX)(R8*2), Z4
	VMOVUPD 64(BX)(R8*2), Z5
	VMOVUPD (BX)(R9*1), Z6
	VMOVUPD 64(BX)(R9*1), Z7
	TESTQ $32, 112(AX)
	JZ    x64gdrive
	VMULPD Z20, Z0, Z0
	VMULPD Z20, Z1, Z1
	VMULPD Z20, Z2, Z2
	VMULPD Z20, Z3, Z3
	VMULPD Z20, Z4, Z4
	VMULPD Z20, Z5, Z5
	VMULPD Z20, Z6, Z6
	VMULPD Z20, Z7, Z7
x64gdrive:
	MOVQ  8(AX), SI
	TESTQ $1, 112(AX)
	JZ    x64gbias
	ADDQ  R12, SI
	VADDPD (SI), Z0, Z0
	VADDPD 64(SI), Z1, Z1
	VADDPD (SI)(R8*1), Z2, Z2
	VADDPD 64(SI)(R8*1), Z3, Z3
	VADDPD (SI)(R8*2), Z4, Z4
	VADDPD 64(SI)(R8*2), Z5, Z5
	VADDPD (SI)(R9*1), Z6, Z6
	VADDPD 64(SI)(R9*1), Z7, Z7
	JMP   x64gfire1
x64gbias:
	VBROADCASTSD 0(SI)(CX*8), Z8
	VADDPD Z8, Z0, Z0
	VADDPD Z8, Z1, Z1
	VBROADCASTSD 8(SI)(CX*8), Z8
	VADDPD Z8, Z2, Z2
	VADDPD Z8, Z3, Z3
	VBROADCASTSD 16(SI)(CX*8), Z8
	VADDPD Z8, Z4, Z4
	VADDPD Z8, Z5, Z5
	VBROADCASTSD 24(SI)(CX*8), Z8
	VADDPD Z8, Z6, Z6
	VADDPD Z8, Z7, Z7
x64gfire1:
	TESTQ $2, 112(AX)
	JNZ   x64gcolumns
	MOVQ  16(AX), SI
	VBROADCASTSD 0(SI)(CX*8), Z16 // threshold
	VBROADCASTSD 8(SI)(CX*8), Z17 // threshold
	VBROADCASTSD 16(SI)(CX*8), Z18 // threshold
	VBROADCASTSD 24(SI)(CX*8), Z19 // threshold
	TESTQ $8, 112(AX)
	JNZ   x64gcolumns
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPD $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z16, Z1, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)
	VCMPPD $0x1D, Z17, Z2, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z17, Z3, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(DX*1)
	VCMPPD $0x1D, Z18, Z4, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z18, Z5, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(DX*2)
	VCMPPD $0x1D, Z19, Z6, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z19, Z7, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(R13*1)
x64gcolumns:
	MOVQ  R14, DX
	TESTQ DX, DX
	JZ    x64gnegative
	MOVQ  120(AX), R13
x64gpos:
	MOVQ (R13), SI
	MOVQ 8(R13), BX
	KMOVW (SI), K1
	KSHIFTRW $8, K1, K4
	VADDPD.BCST 0(BX)(CX*8), Z0, K1, Z0
	VADDPD.BCST 0(BX)(CX*8), Z1, K4, Z1
	VADDPD.BCST 8(BX)(CX*8), Z2, K1, Z2
	VADDPD.BCST 8(BX)(CX*8), Z3, K4, Z3
	VADDPD.BCST 16(BX)(CX*8), Z4, K1, Z4
	VADDPD.BCST 16(BX)(CX*8), Z5, K4, Z5
	VADDPD.BCST 24(BX)(CX*8), Z6, K1, Z6
	VADDPD.BCST 24(BX)(CX*8), Z7, K4, Z7
	ADDQ $16, R13
	DECQ DX
	JNZ  x64gpos
x64gnegative:
	TESTQ $16, 112(AX)
	JZ    x64gafter
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX       // W^T row 0
	MOVQ  48(AX), SI
	ADDQ  R15, SI          // nm[0] block mask
	MOVQ  88(AX), R13
	SHRQ  $3, R13
x64gneg:
	KMOVW (SI), K1
	KSHIFTRW $8, K1, K4
	VSUBPD.BCST 0(BX)(CX*8), Z0, K1, Z0
	VSUBPD.BCST 0(BX)(CX*8), Z1, K4, Z1
	VSUBPD.BCST 8(BX)(CX*8), Z2, K1, Z2
	VSUBPD.BCST 8(BX)(CX*8), Z3, K4, Z3
	VSUBPD.BCST 16(BX)(CX*8), Z4, K1, Z4
	VSUBPD.BCST 16(BX)(CX*8), Z5, K4, Z5
	VSUBPD.BCST 24(BX)(CX*8), Z6, K1, Z6
	VSUBPD.BCST 24(BX)(CX*8), Z7, K4, Z7
	ADDQ R13, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x64gneg
x64gafter:
	TESTQ $2, 112(AX)
	JNZ   x64gstore
	TESTQ $8, 112(AX)
	JZ    x64greset
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPD $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z16, Z1, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)
	VCMPPD $0x1D, Z17, Z2, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z17, Z3, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(DX*1)
	VCMPPD $0x1D, Z18, Z4, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z18, Z5, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(DX*2)
	VCMPPD $0x1D, Z19, Z6, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z19, Z7, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)(R13*1)
x64greset:
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	MOVQ 64(AX), SI
	ADDQ R12, SI           // count rows
	KMOVW (BX), K2
	KSHIFTRW $8, K2, K3
	TESTQ $4, 112(AX)
	JZ    x64gsub0
	VMOVAPD Z9, K2, Z0 // v = +0 where fired
	VMOVAPD Z9, K3, Z1 // v = +0 where fired
	JMP   x64gcnt0
x64gsub0:
	VSUBPD Z16, Z0, K2, Z0
	VSUBPD Z16, Z1, K3, Z1
x64gcnt0:
	VMOVUPD (SI), Z12
	VADDPD Z11, Z12, K2, Z12
	VMOVUPD Z12, (SI)
	VMOVUPD 64(SI), Z12
	VADDPD Z11, Z12, K3, Z12
	VMOVUPD Z12, 64(SI)
	KMOVW (BX)(DX*1), K2
	KSHIFTRW $8, K2, K3
	TESTQ $4, 112(AX)
	JZ    x64gsub1
	VMOVAPD Z9, K2, Z2 // v = +0 where fired
	VMOVAPD Z9, K3, Z3 // v = +0 where fired
	JMP   x64gcnt1
x64gsub1:
	VSUBPD Z17, Z2, K2, Z2
	VSUBPD Z17, Z3, K3, Z3
x64gcnt1:
	VMOVUPD (SI)(R8*1), Z12
	VADDPD Z11, Z12, K2, Z12
	VMOVUPD Z12, (SI)(R8*1)
	VMOVUPD 64(SI)(R8*1), Z12
	VADDPD Z11, Z12, K3, Z12
	VMOVUPD Z12, 64(SI)(R8*1)
	KMOVW (BX)(DX*2), K2
	KSHIFTRW $8, K2, K3
	TESTQ $4, 112(AX)
	JZ    x64gsub2
	VMOVAPD Z9, K2, Z4 // v = +0 where fired
	VMOVAPD Z9, K3, Z5 // v = +0 where fired
	JMP   x64gcnt2
x64gsub2:
	VSUBPD Z18, Z4, K2, Z4
	VSUBPD Z18, Z5, K3, Z5
x64gcnt2:
	VMOVUPD (SI)(R8*2), Z12
	VADDPD Z11, Z12, K2, Z12
	VMOVUPD Z12, (SI)(R8*2)
	VMOVUPD 64(SI)(R8*2), Z12
	VADDPD Z11, Z12, K3, Z12
	VMOVUPD Z12, 64(SI)(R8*2)
	KMOVW (BX)(R13*1), K2
	KSHIFTRW $8, K2, K3
	TESTQ $4, 112(AX)
	JZ    x64gsub3
	VMOVAPD Z9, K2, Z6 // v = +0 where fired
	VMOVAPD Z9, K3, Z7 // v = +0 where fired
	JMP   x64gcnt3
x64gsub3:
	VSUBPD Z19, Z6, K2, Z6
	VSUBPD Z19, Z7, K3, Z7
x64gcnt3:
	VMOVUPD (SI)(R9*1), Z12
	VADDPD Z11, Z12, K2, Z12
	VMOVUPD Z12, (SI)(R9*1)
	VMOVUPD 64(SI)(R9*1), Z12
	VADDPD Z11, Z12, K3, Z12
	VMOVUPD Z12, 64(SI)(R9*1)
x64gstore:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPD Z0, (BX)
	VMOVUPD Z1, 64(BX)
	VMOVUPD Z2, (BX)(R8*1)
	VMOVUPD Z3, 64(BX)(R8*1)
	VMOVUPD Z4, (BX)(R8*2)
	VMOVUPD Z5, 64(BX)(R8*2)
	VMOVUPD Z6, (BX)(R9*1)
	VMOVUPD Z7, 64(BX)(R9*1)
	ADDQ $4, CX
	LEAQ (R12)(R8*4), R12
	JMP  x64groups
x64singles:
	CMPQ CX, 80(AX)
	JGE  x64next
x64s:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPD (BX), Z0
	VMOVUPD 64(BX), Z1
	TESTQ $32, 112(AX)
	JZ    x64sdrive
	VMULPD Z20, Z0, Z0
	VMULPD Z20, Z1, Z1
x64sdrive:
	MOVQ  8(AX), SI
	TESTQ $1, 112(AX)
	JZ    x64sbias
	ADDQ  R12, SI
	VADDPD (SI), Z0, Z0
	VADDPD 64(SI), Z1, Z1
	JMP   x64sfire1
x64sbias:
	VBROADCASTSD 0(SI)(CX*8), Z8
	VADDPD Z8, Z0, Z0
	VADDPD Z8, Z1, Z1
x64sfire1:
	TESTQ $2, 112(AX)
	JNZ   x64scolumns
	MOVQ  16(AX), SI
	VBROADCASTSD 0(SI)(CX*8), Z16 // threshold
	TESTQ $8, 112(AX)
	JNZ   x64scolumns
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPD $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z16, Z1, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)
x64scolumns:
	MOVQ  R14, DX
	TESTQ DX, DX
	JZ    x64snegative
	MOVQ  120(AX), R13
x64spos:
	MOVQ (R13), SI
	MOVQ 8(R13), BX
	KMOVW (SI), K1
	KSHIFTRW $8, K1, K4
	VADDPD.BCST 0(BX)(CX*8), Z0, K1, Z0
	VADDPD.BCST 0(BX)(CX*8), Z1, K4, Z1
	ADDQ $16, R13
	DECQ DX
	JNZ  x64spos
x64snegative:
	TESTQ $16, 112(AX)
	JZ    x64safter
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX       // W^T row 0
	MOVQ  48(AX), SI
	ADDQ  R15, SI          // nm[0] block mask
	MOVQ  88(AX), R13
	SHRQ  $3, R13
x64sneg:
	KMOVW (SI), K1
	KSHIFTRW $8, K1, K4
	VSUBPD.BCST 0(BX)(CX*8), Z0, K1, Z0
	VSUBPD.BCST 0(BX)(CX*8), Z1, K4, Z1
	ADDQ R13, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x64sneg
x64safter:
	TESTQ $2, 112(AX)
	JNZ   x64sstore
	TESTQ $8, 112(AX)
	JZ    x64sreset
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPD $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	VCMPPD $0x1D, Z16, Z1, K3
	KMOVW K3, R13
	SHLL  $8, R13
	ORL   R13, SI
	LEAQ  (DX)(DX*2), R13
	MOVW  SI, (BX)
x64sreset:
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	MOVQ 64(AX), SI
	ADDQ R12, SI           // count rows
	KMOVW (BX), K2
	KSHIFTRW $8, K2, K3
	TESTQ $4, 112(AX)
	JZ    x64ssub0
	VMOVAPD Z9, K2, Z0 // v = +0 where fired
	VMOVAPD Z9, K3, Z1 // v = +0 where fired
	JMP   x64scnt0
x64ssub0:
	VSUBPD Z16, Z0, K2, Z0
	VSUBPD Z16, Z1, K3, Z1
x64scnt0:
	VMOVUPD (SI), Z12
	VADDPD Z11, Z12, K2, Z12
	VMOVUPD Z12, (SI)
	VMOVUPD 64(SI), Z12
	VADDPD Z11, Z12, K3, Z12
	VMOVUPD Z12, 64(SI)
x64sstore:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPD Z0, (BX)
	VMOVUPD Z1, 64(BX)
	INCQ CX
	ADDQ R8, R12
	JMP  x64singles
x64next:
	ADDQ $128, R10
	ADDQ $2, R15
	CMPQ R10, R8
	JLT  x64block
	VZEROUPPER
	RET

// func lockEncode64x(a *lockEncArgs)
// The Rate encoder over all [in] rows at once: 16-lane block q of the
// flat rows has its masks at byte q*2.
TEXT ·lockEncode64x(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 48(AX), CX
	IMULQ 40(AX), CX
	SHRQ $4, CX            // blocks
	MOVQ 80(AX), R9
	VBROADCASTSD 56(AX), Z10 // th
	VBROADCASTSD 64(AX), Z14 // -th
	VBROADCASTSD 72(AX), Z15 // one
	MOVQ 0(AX), DI
	MOVQ 8(AX), SI
	MOVQ 16(AX), BX
	MOVQ 24(AX), DX
	MOVQ 32(AX), R11
	XORQ R12, R12          // block offset in rows
	XORQ R13, R13          // block offset in masks

x64eblock:
	VMOVUPD 0(DI)(R12*1), Z0
	VMOVUPD 64(DI)(R12*1), Z1
	VADDPD 0(SI)(R12*1), Z0, Z0  // x = v + Gain*x
	VADDPD 64(SI)(R12*1), Z1, Z1  // x = v + Gain*x
	VMOVUPD 0(R11)(R12*1), Z4
	VMOVUPD 64(R11)(R12*1), Z5
	VCMPPD $0x1D, Z10, Z0, K2      // x >= th
	VCMPPD $0x1D, Z10, Z1, K3      // x >= th
	VSUBPD Z10, Z0, K2, Z0
	VSUBPD Z10, Z1, K3, Z1
	VADDPD Z15, Z4, K2, Z4
	VADDPD Z15, Z5, K3, Z5
	KMOVW K2, R8
	KMOVW K3, R10
	SHLL $8, R10
	ORL R10, R8
	MOVW R8, (BX)(R13*1)
	TESTQ $16, R9
	JZ   x64estore
	VCMPPD $0x12, Z14, Z0, K5   // v <= -th
	VADDPD Z10, Z0, K5, Z0
	VADDPD Z15, Z4, K5, Z4
	VCMPPD $0x12, Z14, Z1, K6   // v <= -th
	VADDPD Z10, Z1, K6, Z1
	VADDPD Z15, Z5, K6, Z5
	KMOVW K5, R8
	KMOVW K6, R10
	SHLL $8, R10
	ORL R10, R8
	MOVW R8, (DX)(R13*1)

x64estore:
	VMOVUPD Z0, 0(DI)(R12*1)
	VMOVUPD Z1, 64(DI)(R12*1)
	VMOVUPD Z4, 0(R11)(R12*1)
	VMOVUPD Z5, 64(R11)(R12*1)
	ADDQ $128, R12
	ADDQ $2, R13
	DECQ CX
	JNZ  x64eblock
	VZEROUPPER
	RET


// func lockLayer32x(a *lockArgs)
TEXT ·lockLayer32x(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 88(AX), R8
	SHLQ $2, R8        // row bytes
	LEAQ (R8)(R8*2), R9    // 3 rows
	MOVQ 80(AX), R11
	SHLQ $2, R11       // (in, out) row bytes
	MOVQ 0(AX), DI         // v
	VBROADCASTSS 104(AX), Z11 // one
	VBROADCASTSS 96(AX), Z20  // leak
	VXORPS Z9, Z9, Z9     // +0
	XORQ R10, R10          // block offset in a row
	XORQ R15, R15          // block offset in a mask row

x32block:
	// The presynaptic rows with a spike in this block, as (mask address,
	// weight row address) pairs; silent rows are skipped for every neuron.
	MOVQ 72(AX), DX        // in
	MOVQ 120(AX), R13      // list
	XORQ R14, R14          // list length in words
	TESTQ DX, DX
	JZ   x32listed
	MOVQ 40(AX), SI
	ADDQ R15, SI           // pm[0] block mask
	MOVQ 32(AX), BX        // W^T row 0
	MOVQ 88(AX), R12
	SHRQ $3, R12           // mask row bytes (2 per block of 16 lanes)
x32list:
	MOVQ SI, (R13)(R14*8)
	MOVQ BX, 8(R13)(R14*8)
	MOVL (SI), CX          // both blocks
	NEGL CX
	SBBQ CX, CX            // -1 if any lane fired
	ANDQ $2, CX
	ADDQ CX, R14
	ADDQ R12, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x32list
x32listed:
	SHRQ $1, R14           // pairs
	XORQ CX, CX            // neuron o
	MOVQ R10, R12          // o*rowBytes + block offset
x32groups:
	LEAQ 4(CX), DX
	CMPQ DX, 80(AX)
	JGT  x32singles
x32g:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	VMOVUPS (BX)(R8*1), Z2
	VMOVUPS 64(BX)(R8*1), Z3
	VMOVUPS (BX)(R8*2), Z4
	VMOVUPS 64(BX)(R8*2), Z5
	VMOVUPS (BX)(R9*1), Z6
	VMOVUPS 64(BX)(R9*1), Z7
	TESTQ $32, 112(AX)
	JZ    x32gdrive
	VMULPS Z20, Z0, Z0
	VMULPS Z20, Z1, Z1
	VMULPS Z20, Z2, Z2
	VMULPS Z20, Z3, Z3
	VMULPS Z20, Z4, Z4
	VMULPS Z20, Z5, Z5
	VMULPS Z20, Z6, Z6
	VMULPS Z20, Z7, Z7
x32gdrive:
	MOVQ  8(AX), SI
	TESTQ $1, 112(AX)
	JZ    x32gbias
	ADDQ  R12, SI
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS (SI)(R8*1), Z2, Z2
	VADDPS 64(SI)(R8*1), Z3, Z3
	VADDPS (SI)(R8*2), Z4, Z4
	VADDPS 64(SI)(R8*2), Z5, Z5
	VADDPS (SI)(R9*1), Z6, Z6
	VADDPS 64(SI)(R9*1), Z7, Z7
	JMP   x32gfire1
x32gbias:
	VBROADCASTSS 0(SI)(CX*4), Z8
	VADDPS Z8, Z0, Z0
	VADDPS Z8, Z1, Z1
	VBROADCASTSS 4(SI)(CX*4), Z8
	VADDPS Z8, Z2, Z2
	VADDPS Z8, Z3, Z3
	VBROADCASTSS 8(SI)(CX*4), Z8
	VADDPS Z8, Z4, Z4
	VADDPS Z8, Z5, Z5
	VBROADCASTSS 12(SI)(CX*4), Z8
	VADDPS Z8, Z6, Z6
	VADDPS Z8, Z7, Z7
x32gfire1:
	TESTQ $2, 112(AX)
	JNZ   x32gcolumns
	MOVQ  16(AX), SI
	VBROADCASTSS 0(SI)(CX*4), Z16 // threshold
	VBROADCASTSS 4(SI)(CX*4), Z17 // threshold
	VBROADCASTSS 8(SI)(CX*4), Z18 // threshold
	VBROADCASTSS 12(SI)(CX*4), Z19 // threshold
	TESTQ $8, 112(AX)
	JNZ   x32gcolumns
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPS $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)
	VCMPPS $0x1D, Z16, Z1, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)
	VCMPPS $0x1D, Z17, Z2, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(DX*1)
	VCMPPS $0x1D, Z17, Z3, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(DX*1)
	VCMPPS $0x1D, Z18, Z4, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(DX*2)
	VCMPPS $0x1D, Z18, Z5, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(DX*2)
	VCMPPS $0x1D, Z19, Z6, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(R13*1)
	VCMPPS $0x1D, Z19, Z7, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(R13*1)
x32gcolumns:
	MOVQ  R14, DX
	TESTQ DX, DX
	JZ    x32gnegative
	MOVQ  120(AX), R13
x32gpos:
	MOVQ (R13), SI
	MOVQ 8(R13), BX
	KMOVW (SI), K1
	KMOVW 2(SI), K4
	VADDPS.BCST 0(BX)(CX*4), Z0, K1, Z0
	VADDPS.BCST 0(BX)(CX*4), Z1, K4, Z1
	VADDPS.BCST 4(BX)(CX*4), Z2, K1, Z2
	VADDPS.BCST 4(BX)(CX*4), Z3, K4, Z3
	VADDPS.BCST 8(BX)(CX*4), Z4, K1, Z4
	VADDPS.BCST 8(BX)(CX*4), Z5, K4, Z5
	VADDPS.BCST 12(BX)(CX*4), Z6, K1, Z6
	VADDPS.BCST 12(BX)(CX*4), Z7, K4, Z7
	ADDQ $16, R13
	DECQ DX
	JNZ  x32gpos
x32gnegative:
	TESTQ $16, 112(AX)
	JZ    x32gafter
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX       // W^T row 0
	MOVQ  48(AX), SI
	ADDQ  R15, SI          // nm[0] block mask
	MOVQ  88(AX), R13
	SHRQ  $3, R13
x32gneg:
	KMOVW (SI), K1
	KMOVW 2(SI), K4
	VSUBPS.BCST 0(BX)(CX*4), Z0, K1, Z0
	VSUBPS.BCST 0(BX)(CX*4), Z1, K4, Z1
	VSUBPS.BCST 4(BX)(CX*4), Z2, K1, Z2
	VSUBPS.BCST 4(BX)(CX*4), Z3, K4, Z3
	VSUBPS.BCST 8(BX)(CX*4), Z4, K1, Z4
	VSUBPS.BCST 8(BX)(CX*4), Z5, K4, Z5
	VSUBPS.BCST 12(BX)(CX*4), Z6, K1, Z6
	VSUBPS.BCST 12(BX)(CX*4), Z7, K4, Z7
	ADDQ R13, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x32gneg
x32gafter:
	TESTQ $2, 112(AX)
	JNZ   x32gstore
	TESTQ $8, 112(AX)
	JZ    x32greset
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPS $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)
	VCMPPS $0x1D, Z16, Z1, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)
	VCMPPS $0x1D, Z17, Z2, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(DX*1)
	VCMPPS $0x1D, Z17, Z3, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(DX*1)
	VCMPPS $0x1D, Z18, Z4, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(DX*2)
	VCMPPS $0x1D, Z18, Z5, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(DX*2)
	VCMPPS $0x1D, Z19, Z6, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)(R13*1)
	VCMPPS $0x1D, Z19, Z7, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)(R13*1)
x32greset:
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	MOVQ 64(AX), SI
	ADDQ R12, SI           // count rows
	KMOVW (BX), K2
	KMOVW 2(BX), K3
	TESTQ $4, 112(AX)
	JZ    x32gsub0
	VMOVAPS Z9, K2, Z0 // v = +0 where fired
	VMOVAPS Z9, K3, Z1 // v = +0 where fired
	JMP   x32gcnt0
x32gsub0:
	VSUBPS Z16, Z0, K2, Z0
	VSUBPS Z16, Z1, K3, Z1
x32gcnt0:
	VMOVUPS (SI), Z12
	VADDPS Z11, Z12, K2, Z12
	VMOVUPS Z12, (SI)
	VMOVUPS 64(SI), Z12
	VADDPS Z11, Z12, K3, Z12
	VMOVUPS Z12, 64(SI)
	KMOVW (BX)(DX*1), K2
	KMOVW 2(BX)(DX*1), K3
	TESTQ $4, 112(AX)
	JZ    x32gsub1
	VMOVAPS Z9, K2, Z2 // v = +0 where fired
	VMOVAPS Z9, K3, Z3 // v = +0 where fired
	JMP   x32gcnt1
x32gsub1:
	VSUBPS Z17, Z2, K2, Z2
	VSUBPS Z17, Z3, K3, Z3
x32gcnt1:
	VMOVUPS (SI)(R8*1), Z12
	VADDPS Z11, Z12, K2, Z12
	VMOVUPS Z12, (SI)(R8*1)
	VMOVUPS 64(SI)(R8*1), Z12
	VADDPS Z11, Z12, K3, Z12
	VMOVUPS Z12, 64(SI)(R8*1)
	KMOVW (BX)(DX*2), K2
	KMOVW 2(BX)(DX*2), K3
	TESTQ $4, 112(AX)
	JZ    x32gsub2
	VMOVAPS Z9, K2, Z4 // v = +0 where fired
	VMOVAPS Z9, K3, Z5 // v = +0 where fired
	JMP   x32gcnt2
x32gsub2:
	VSUBPS Z18, Z4, K2, Z4
	VSUBPS Z18, Z5, K3, Z5
x32gcnt2:
	VMOVUPS (SI)(R8*2), Z12
	VADDPS Z11, Z12, K2, Z12
	VMOVUPS Z12, (SI)(R8*2)
	VMOVUPS 64(SI)(R8*2), Z12
	VADDPS Z11, Z12, K3, Z12
	VMOVUPS Z12, 64(SI)(R8*2)
	KMOVW (BX)(R13*1), K2
	KMOVW 2(BX)(R13*1), K3
	TESTQ $4, 112(AX)
	JZ    x32gsub3
	VMOVAPS Z9, K2, Z6 // v = +0 where fired
	VMOVAPS Z9, K3, Z7 // v = +0 where fired
	JMP   x32gcnt3
x32gsub3:
	VSUBPS Z19, Z6, K2, Z6
	VSUBPS Z19, Z7, K3, Z7
x32gcnt3:
	VMOVUPS (SI)(R9*1), Z12
	VADDPS Z11, Z12, K2, Z12
	VMOVUPS Z12, (SI)(R9*1)
	VMOVUPS 64(SI)(R9*1), Z12
	VADDPS Z11, Z12, K3, Z12
	VMOVUPS Z12, 64(SI)(R9*1)
x32gstore:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	VMOVUPS Z2, (BX)(R8*1)
	VMOVUPS Z3, 64(BX)(R8*1)
	VMOVUPS Z4, (BX)(R8*2)
	VMOVUPS Z5, 64(BX)(R8*2)
	VMOVUPS Z6, (BX)(R9*1)
	VMOVUPS Z7, 64(BX)(R9*1)
	ADDQ $4, CX
	LEAQ (R12)(R8*4), R12
	JMP  x32groups
x32singles:
	CMPQ CX, 80(AX)
	JGE  x32next
x32s:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	TESTQ $32, 112(AX)
	JZ    x32sdrive
	VMULPS Z20, Z0, Z0
	VMULPS Z20, Z1, Z1
x32sdrive:
	MOVQ  8(AX), SI
	TESTQ $1, 112(AX)
	JZ    x32sbias
	ADDQ  R12, SI
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	JMP   x32sfire1
x32sbias:
	VBROADCASTSS 0(SI)(CX*4), Z8
	VADDPS Z8, Z0, Z0
	VADDPS Z8, Z1, Z1
x32sfire1:
	TESTQ $2, 112(AX)
	JNZ   x32scolumns
	MOVQ  16(AX), SI
	VBROADCASTSS 0(SI)(CX*4), Z16 // threshold
	TESTQ $8, 112(AX)
	JNZ   x32scolumns
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPS $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)
	VCMPPS $0x1D, Z16, Z1, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)
x32scolumns:
	MOVQ  R14, DX
	TESTQ DX, DX
	JZ    x32snegative
	MOVQ  120(AX), R13
x32spos:
	MOVQ (R13), SI
	MOVQ 8(R13), BX
	KMOVW (SI), K1
	KMOVW 2(SI), K4
	VADDPS.BCST 0(BX)(CX*4), Z0, K1, Z0
	VADDPS.BCST 0(BX)(CX*4), Z1, K4, Z1
	ADDQ $16, R13
	DECQ DX
	JNZ  x32spos
x32snegative:
	TESTQ $16, 112(AX)
	JZ    x32safter
	MOVQ  72(AX), DX
	MOVQ  32(AX), BX       // W^T row 0
	MOVQ  48(AX), SI
	ADDQ  R15, SI          // nm[0] block mask
	MOVQ  88(AX), R13
	SHRQ  $3, R13
x32sneg:
	KMOVW (SI), K1
	KMOVW 2(SI), K4
	VSUBPS.BCST 0(BX)(CX*4), Z0, K1, Z0
	VSUBPS.BCST 0(BX)(CX*4), Z1, K4, Z1
	ADDQ R13, SI
	ADDQ R11, BX
	DECQ DX
	JNZ  x32sneg
x32safter:
	TESTQ $2, 112(AX)
	JNZ   x32sstore
	TESTQ $8, 112(AX)
	JZ    x32sreset
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	VCMPPS $0x1D, Z16, Z0, K2 // v >= th (ordered, as Go's >=)
	KMOVW K2, SI
	MOVW  SI, (BX)
	VCMPPS $0x1D, Z16, Z1, K3
	KMOVW K3, SI
	MOVW  SI, 2(BX)
x32sreset:
	MOVQ  88(AX), DX
	SHRQ  $3, DX           // mask row bytes
	MOVQ  DX, BX
	IMULQ CX, BX
	ADDQ  56(AX), BX
	ADDQ  R15, BX          // &fire[o] block mask
	LEAQ  (DX)(DX*2), R13
	MOVQ 64(AX), SI
	ADDQ R12, SI           // count rows
	KMOVW (BX), K2
	KMOVW 2(BX), K3
	TESTQ $4, 112(AX)
	JZ    x32ssub0
	VMOVAPS Z9, K2, Z0 // v = +0 where fired
	VMOVAPS Z9, K3, Z1 // v = +0 where fired
	JMP   x32scnt0
x32ssub0:
	VSUBPS Z16, Z0, K2, Z0
	VSUBPS Z16, Z1, K3, Z1
x32scnt0:
	VMOVUPS (SI), Z12
	VADDPS Z11, Z12, K2, Z12
	VMOVUPS Z12, (SI)
	VMOVUPS 64(SI), Z12
	VADDPS Z11, Z12, K3, Z12
	VMOVUPS Z12, 64(SI)
x32sstore:
	MOVQ DI, BX
	ADDQ R12, BX
	VMOVUPS Z0, (BX)
	VMOVUPS Z1, 64(BX)
	INCQ CX
	ADDQ R8, R12
	JMP  x32singles
x32next:
	ADDQ $128, R10
	ADDQ $4, R15
	CMPQ R10, R8
	JLT  x32block
	VZEROUPPER
	RET

// func lockEncode32x(a *lockEncArgs)
// The Rate encoder over all [in] rows at once: 16-lane block q of the
// flat rows has its masks at byte q*2.
TEXT ·lockEncode32x(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), AX
	MOVQ 48(AX), CX
	IMULQ 40(AX), CX
	SHRQ $4, CX            // blocks
	MOVQ 80(AX), R9
	VBROADCASTSS 56(AX), Z10 // th
	VBROADCASTSS 64(AX), Z14 // -th
	VBROADCASTSS 72(AX), Z15 // one
	MOVQ 0(AX), DI
	MOVQ 8(AX), SI
	MOVQ 16(AX), BX
	MOVQ 24(AX), DX
	MOVQ 32(AX), R11
	XORQ R12, R12          // block offset in rows
	XORQ R13, R13          // block offset in masks

x32eblock:
	VMOVUPS 0(DI)(R12*1), Z0
	VADDPS 0(SI)(R12*1), Z0, Z0  // x = v + Gain*x
	VMOVUPS 0(R11)(R12*1), Z4
	VCMPPS $0x1D, Z10, Z0, K2      // x >= th
	VSUBPS Z10, Z0, K2, Z0
	VADDPS Z15, Z4, K2, Z4
	KMOVW K2, R8
	MOVW R8, (BX)(R13*1)
	TESTQ $16, R9
	JZ   x32estore
	VCMPPS $0x12, Z14, Z0, K5   // v <= -th
	VADDPS Z10, Z0, K5, Z0
	VADDPS Z15, Z4, K5, Z4
	KMOVW K5, R8
	MOVW R8, (DX)(R13*1)

x32estore:
	VMOVUPS Z0, 0(DI)(R12*1)
	VMOVUPS Z4, 0(R11)(R12*1)
	ADDQ $64, R12
	ADDQ $2, R13
	DECQ CX
	JNZ  x32eblock
	VZEROUPPER
	RET
