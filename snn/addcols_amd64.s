#include "textflag.h"

// func addColumnsSSE(v, wt []float32, spikes []int32)
// For every j in spikes, in order: v[i] += wt[j*len(v)+i] for all i.
// Each element receives the same additions in the same order as the scalar
// addColumns, so results are bit-identical; v is loaded once per block of 16
// (or 4) elements, accumulated in registers over all spikes, then stored.
TEXT ·addColumnsSSE(SB), NOSPLIT, $0-72
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ wt_base+24(FP), SI
	MOVQ spikes_base+48(FP), DX
	MOVQ spikes_len+56(FP), R8
	TESTQ R8, R8
	JE    done
	MOVQ  CX, R11
	SHLQ  $2, R11 // column stride in bytes
	XORQ  R10, R10 // element index of the current block

block16:
	MOVQ   CX, R9
	SUBQ   R10, R9
	CMPQ   R9, $16
	JLT    block4
	MOVUPS (DI)(R10*4), X0
	MOVUPS 16(DI)(R10*4), X1
	MOVUPS 32(DI)(R10*4), X2
	MOVUPS 48(DI)(R10*4), X3
	LEAQ   (SI)(R10*4), R12
	XORQ   BX, BX

spikes16:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVUPS  (R12)(AX*1), X4
	ADDPS   X4, X0
	MOVUPS  16(R12)(AX*1), X5
	ADDPS   X5, X1
	MOVUPS  32(R12)(AX*1), X6
	ADDPS   X6, X2
	MOVUPS  48(R12)(AX*1), X7
	ADDPS   X7, X3
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes16
	MOVUPS  X0, (DI)(R10*4)
	MOVUPS  X1, 16(DI)(R10*4)
	MOVUPS  X2, 32(DI)(R10*4)
	MOVUPS  X3, 48(DI)(R10*4)
	ADDQ    $16, R10
	JMP     block16

block4:
	MOVQ   CX, R9
	SUBQ   R10, R9
	CMPQ   R9, $4
	JLT    tail
	MOVUPS (DI)(R10*4), X0
	LEAQ   (SI)(R10*4), R12
	XORQ   BX, BX

spikes4:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVUPS  (R12)(AX*1), X4
	ADDPS   X4, X0
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes4
	MOVUPS  X0, (DI)(R10*4)
	ADDQ    $4, R10
	JMP     block4

tail:
	CMPQ  R10, CX
	JGE   done
	MOVSS (DI)(R10*4), X0
	LEAQ  (SI)(R10*4), R12
	XORQ  BX, BX

spikes1:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVSS   (R12)(AX*1), X4
	ADDSS   X4, X0
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes1
	MOVSS   X0, (DI)(R10*4)
	INCQ    R10
	JMP     tail

done:
	RET

// func integrateFireSSE(v, drive, threshold []float32, leak float32, spikes []int32) int
// For i in [0, len(v)), len(v) a multiple of 4: v[i] = leak*v[i] + drive[i];
// the i with v[i] >= threshold[i] are written to spikes in ascending order
// (branch-free: every index is stored, the count advances only on a spike).
// Returns how many fired. Per lane the arithmetic is the scalar MULSS+ADDSS of
// integrateAndFire, and leak*v == v exactly when leak is 1.
TEXT ·integrateFireSSE(SB), NOSPLIT, $0-112
	MOVQ   v_base+0(FP), DI
	MOVQ   v_len+8(FP), CX
	MOVQ   drive_base+24(FP), SI
	MOVQ   threshold_base+48(FP), DX
	MOVSS  leak+72(FP), X7
	SHUFPS $0, X7, X7
	MOVQ   spikes_base+80(FP), R8
	XORQ   AX, AX // i
	XORQ   BX, BX // k

loop:
	CMPQ     AX, CX
	JGE      done
	MOVUPS   (DI)(AX*4), X0
	MULPS    X7, X0
	MOVUPS   (SI)(AX*4), X1
	ADDPS    X1, X0
	MOVUPS   X0, (DI)(AX*4)
	MOVUPS   (DX)(AX*4), X2
	CMPPS    X0, X2, $2 // X2 = threshold <= v
	MOVMSKPS X2, R9

	MOVL AX, (R8)(BX*4)
	MOVL R9, R11
	ANDL $1, R11
	ADDQ R11, BX

	LEAL 1(AX), R12
	MOVL R12, (R8)(BX*4)
	MOVL R9, R11
	SHRL $1, R11
	ANDL $1, R11
	ADDQ R11, BX

	LEAL 2(AX), R12
	MOVL R12, (R8)(BX*4)
	MOVL R9, R11
	SHRL $2, R11
	ANDL $1, R11
	ADDQ R11, BX

	LEAL 3(AX), R12
	MOVL R12, (R8)(BX*4)
	SHRL $3, R9
	ADDQ R9, BX

	ADDQ $4, AX
	JMP  loop

done:
	MOVQ BX, ret+104(FP)
	RET

// func addColumnsSSE2(v, wt []float64, spikes []int32)
// addColumnsSSE for float64: blocks of 8 and 2 elements, then one.
TEXT ·addColumnsSSE2(SB), NOSPLIT, $0-72
	MOVQ  v_base+0(FP), DI
	MOVQ  v_len+8(FP), CX
	MOVQ  wt_base+24(FP), SI
	MOVQ  spikes_base+48(FP), DX
	MOVQ  spikes_len+56(FP), R8
	TESTQ R8, R8
	JE    done64
	MOVQ  CX, R11
	SHLQ  $3, R11 // column stride in bytes
	XORQ  R10, R10

block8:
	MOVQ   CX, R9
	SUBQ   R10, R9
	CMPQ   R9, $8
	JLT    block2
	MOVUPD (DI)(R10*8), X0
	MOVUPD 16(DI)(R10*8), X1
	MOVUPD 32(DI)(R10*8), X2
	MOVUPD 48(DI)(R10*8), X3
	LEAQ   (SI)(R10*8), R12
	XORQ   BX, BX

spikes8:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVUPD  (R12)(AX*1), X4
	ADDPD   X4, X0
	MOVUPD  16(R12)(AX*1), X5
	ADDPD   X5, X1
	MOVUPD  32(R12)(AX*1), X6
	ADDPD   X6, X2
	MOVUPD  48(R12)(AX*1), X7
	ADDPD   X7, X3
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes8
	MOVUPD  X0, (DI)(R10*8)
	MOVUPD  X1, 16(DI)(R10*8)
	MOVUPD  X2, 32(DI)(R10*8)
	MOVUPD  X3, 48(DI)(R10*8)
	ADDQ    $8, R10
	JMP     block8

block2:
	MOVQ   CX, R9
	SUBQ   R10, R9
	CMPQ   R9, $2
	JLT    tail64
	MOVUPD (DI)(R10*8), X0
	LEAQ   (SI)(R10*8), R12
	XORQ   BX, BX

spikes2:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVUPD  (R12)(AX*1), X4
	ADDPD   X4, X0
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes2
	MOVUPD  X0, (DI)(R10*8)
	ADDQ    $2, R10
	JMP     block2

tail64:
	CMPQ  R10, CX
	JGE   done64
	MOVSD (DI)(R10*8), X0
	LEAQ  (SI)(R10*8), R12
	XORQ  BX, BX

spikes1d:
	MOVLQSX (DX)(BX*4), AX
	IMULQ   R11, AX
	MOVSD   (R12)(AX*1), X4
	ADDSD   X4, X0
	INCQ    BX
	CMPQ    BX, R8
	JLT     spikes1d
	MOVSD   X0, (DI)(R10*8)
	INCQ    R10
	JMP     tail64

done64:
	RET
