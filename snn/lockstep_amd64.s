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
