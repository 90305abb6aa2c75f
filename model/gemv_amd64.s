#include "textflag.h"

// func gemvSSE(dst, w, x []float32)
// dst[o] = sum_i w[o*n+i]*x[i] with n = len(x); the caller checks len(w) >= len(dst)*n.
// Summation order is documented at gemvGeneric, which must stay in step with this file.
TEXT ·gemvSSE(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ w_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	MOVQ x_len+56(FP), R8

row:
	TESTQ CX, CX
	JE    done
	XORPS X0, X0
	XORPS X1, X1
	XORPS X2, X2
	XORPS X3, X3
	MOVQ  R8, R9
	XORQ  R10, R10

block16:
	CMPQ   R9, $16
	JLT    block4
	MOVUPS (SI)(R10*4), X4
	MOVUPS (DX)(R10*4), X5
	MULPS  X5, X4
	ADDPS  X4, X0
	MOVUPS 16(SI)(R10*4), X6
	MOVUPS 16(DX)(R10*4), X7
	MULPS  X7, X6
	ADDPS  X6, X1
	MOVUPS 32(SI)(R10*4), X8
	MOVUPS 32(DX)(R10*4), X9
	MULPS  X9, X8
	ADDPS  X8, X2
	MOVUPS 48(SI)(R10*4), X10
	MOVUPS 48(DX)(R10*4), X11
	MULPS  X11, X10
	ADDPS  X10, X3
	ADDQ   $16, R10
	SUBQ   $16, R9
	JMP    block16

block4:
	CMPQ   R9, $4
	JLT    combine
	MOVUPS (SI)(R10*4), X4
	MOVUPS (DX)(R10*4), X5
	MULPS  X5, X4
	ADDPS  X4, X0
	ADDQ   $4, R10
	SUBQ   $4, R9
	JMP    block4

combine:
	// lanes: X0 = (acc0 + acc1) + (acc2 + acc3)
	ADDPS  X1, X0
	ADDPS  X3, X2
	ADDPS  X2, X0
	// (l0 + l2) + (l1 + l3)
	MOVAPS X0, X1
	SHUFPS $0x4E, X1, X1
	ADDPS  X1, X0
	MOVAPS X0, X1
	SHUFPS $0xB1, X1, X1
	ADDSS  X1, X0

tail:
	TESTQ R9, R9
	JE    store
	MOVSS (SI)(R10*4), X4
	MOVSS (DX)(R10*4), X5
	MULSS X5, X4
	ADDSS X4, X0
	INCQ  R10
	DECQ  R9
	JMP   tail

store:
	MOVSS X0, (DI)
	ADDQ  $4, DI
	LEAQ  (SI)(R8*4), SI
	DECQ  CX
	JMP   row

done:
	RET
