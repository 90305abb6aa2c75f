#include "textflag.h"

// func vecMatUnfusedAVX(dst, wt, x []float32)
// dst[o] = sum over k = 0..in-1, in order, of x[k]*wt[k*out+o], each product
// and each sum rounded separately (VMULPS then VADDPS, no FMA), the sum
// starting from zero; out = len(dst), in = len(x); the caller checks len(wt).
// That is the order and rounding of gonum's float32 GEMM on untransposed or
// transposed-A operands (axpy rows), which Gorgonia's MatMul runs on.
// This is model's gemvTFMA (gemv_amd64.s) with each FMA split in two: outputs
// in blocks of 64 (eight YMM accumulators), then 8, then 1..7 through a mask.
DATA vmtailmask<>+0(SB)/4, $0xffffffff
DATA vmtailmask<>+4(SB)/4, $0xffffffff
DATA vmtailmask<>+8(SB)/4, $0xffffffff
DATA vmtailmask<>+12(SB)/4, $0xffffffff
DATA vmtailmask<>+16(SB)/4, $0xffffffff
DATA vmtailmask<>+20(SB)/4, $0xffffffff
DATA vmtailmask<>+24(SB)/4, $0xffffffff
DATA vmtailmask<>+28(SB)/4, $0xffffffff
DATA vmtailmask<>+32(SB)/4, $0
DATA vmtailmask<>+36(SB)/4, $0
DATA vmtailmask<>+40(SB)/4, $0
DATA vmtailmask<>+44(SB)/4, $0
DATA vmtailmask<>+48(SB)/4, $0
DATA vmtailmask<>+52(SB)/4, $0
DATA vmtailmask<>+56(SB)/4, $0
DATA vmtailmask<>+60(SB)/4, $0
GLOBL vmtailmask<>(SB), RODATA|NOPTR, $64

TEXT ·vecMatUnfusedAVX(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ wt_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	MOVQ x_len+56(FP), R8
	MOVQ CX, R11
	SHLQ $2, R11              // row stride of wt in bytes (out*4)
	XORQ R9, R9               // o: first output of the block

block64:
	MOVQ   CX, AX
	SUBQ   R9, AX
	CMPQ   AX, $64
	JLT    block8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	LEAQ   (SI)(R9*4), BX     // &wt[0*out+o]
	XORQ   R10, R10           // k

loop64:
	CMPQ         R10, R8
	JGE          store64
	VBROADCASTSS (DX)(R10*4), Y4
	VMULPS       (BX), Y4, Y15
	VADDPS       Y15, Y0, Y0
	VMULPS       32(BX), Y4, Y15
	VADDPS       Y15, Y1, Y1
	VMULPS       64(BX), Y4, Y15
	VADDPS       Y15, Y2, Y2
	VMULPS       96(BX), Y4, Y15
	VADDPS       Y15, Y3, Y3
	VMULPS       128(BX), Y4, Y15
	VADDPS       Y15, Y5, Y5
	VMULPS       160(BX), Y4, Y15
	VADDPS       Y15, Y6, Y6
	VMULPS       192(BX), Y4, Y15
	VADDPS       Y15, Y7, Y7
	VMULPS       224(BX), Y4, Y15
	VADDPS       Y15, Y8, Y8
	ADDQ         R11, BX
	INCQ         R10
	JMP          loop64

store64:
	VMOVUPS Y0, (DI)(R9*4)
	VMOVUPS Y1, 32(DI)(R9*4)
	VMOVUPS Y2, 64(DI)(R9*4)
	VMOVUPS Y3, 96(DI)(R9*4)
	VMOVUPS Y5, 128(DI)(R9*4)
	VMOVUPS Y6, 160(DI)(R9*4)
	VMOVUPS Y7, 192(DI)(R9*4)
	VMOVUPS Y8, 224(DI)(R9*4)
	ADDQ    $64, R9
	JMP     block64

block8:
	MOVQ   CX, AX
	SUBQ   R9, AX
	CMPQ   AX, $8
	JLT    single
	VXORPS Y0, Y0, Y0
	LEAQ   (SI)(R9*4), BX
	XORQ   R10, R10

loop8:
	CMPQ         R10, R8
	JGE          store8
	VBROADCASTSS (DX)(R10*4), Y4
	VMULPS       (BX), Y4, Y15
	VADDPS       Y15, Y0, Y0
	ADDQ         R11, BX
	INCQ         R10
	JMP          loop8

store8:
	VMOVUPS Y0, (DI)(R9*4)
	ADDQ    $8, R9
	JMP     block8

single:
	// r = out - o remaining outputs (0..7): lanes 0..r-1 of the mask are set,
	// masked-off lanes load as zero and are never stored.
	MOVQ      CX, AX
	SUBQ      R9, AX
	JE        done
	MOVQ      $8, R12
	SUBQ      AX, R12
	LEAQ      vmtailmask<>(SB), R13
	VMOVDQU   (R13)(R12*4), Y9
	VXORPS    Y0, Y0, Y0
	LEAQ      (SI)(R9*4), BX
	XORQ      R10, R10

looptail:
	CMPQ         R10, R8
	JGE          storetail
	VBROADCASTSS (DX)(R10*4), Y4
	VMASKMOVPS   (BX), Y9, Y10
	VMULPS       Y10, Y4, Y10
	VADDPS       Y10, Y0, Y0
	ADDQ         R11, BX
	INCQ         R10
	JMP          looptail

storetail:
	VMASKMOVPS Y0, Y9, (DI)(R9*4)

done:
	VZEROUPPER
	RET
