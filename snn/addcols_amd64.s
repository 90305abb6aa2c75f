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
