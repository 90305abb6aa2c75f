#include "textflag.h"

// func dotsUnitaryOrderAVX(dst, a, bt []float32)
// Eight outputs per pass: for the outputs j..j+7, YMM registers hold gonum
// DotUnitary's partial sums lane by lane: Y0-Y3 its SUM lanes 0-3, Y4-Y7 its
// P_SUM lanes 0-3 (see dotsUnitaryOrderGeneric). Each product a[k]*bt[k,j..]
// is rounded alone (VMULPS) and added (VADDPS) into the register that gonum
// adds it into, in the same k order. The last 1..7 outputs go through a lane
// mask. n = len(dst), K = len(a); the caller checks len(bt) >= K*n.
DATA dotmask<>+0(SB)/4, $0xffffffff
DATA dotmask<>+4(SB)/4, $0xffffffff
DATA dotmask<>+8(SB)/4, $0xffffffff
DATA dotmask<>+12(SB)/4, $0xffffffff
DATA dotmask<>+16(SB)/4, $0xffffffff
DATA dotmask<>+20(SB)/4, $0xffffffff
DATA dotmask<>+24(SB)/4, $0xffffffff
DATA dotmask<>+28(SB)/4, $0xffffffff
DATA dotmask<>+32(SB)/4, $0
DATA dotmask<>+36(SB)/4, $0
DATA dotmask<>+40(SB)/4, $0
DATA dotmask<>+44(SB)/4, $0
DATA dotmask<>+48(SB)/4, $0
DATA dotmask<>+52(SB)/4, $0
DATA dotmask<>+56(SB)/4, $0
DATA dotmask<>+60(SB)/4, $0
GLOBL dotmask<>(SB), RODATA|NOPTR, $64

// TERM(off, acc): acc += a[k+off] * row k+off, then the row pointer moves on.
// Y10 holds the lane mask (all ones for full blocks).
#define TERM(off, acc) \
	VBROADCASTSS off*4(DX)(R10*4), Y8; \
	VMASKMOVPS   (BX), Y10, Y9;        \
	VMULPS       Y9, Y8, Y9;           \
	VADDPS       Y9, acc, acc;         \
	ADDQ         R11, BX

TEXT ·dotsUnitaryOrderAVX(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), DX
	MOVQ a_len+32(FP), R8
	MOVQ bt_base+48(FP), SI
	MOVQ CX, R11
	SHLQ $2, R11              // row stride of bt in bytes (n*4)
	XORQ R9, R9               // j: first output of the block
	LEAQ dotmask<>(SB), R13

block:
	MOVQ    CX, AX
	SUBQ    R9, AX            // outputs left
	JLE     done
	CMPQ    AX, $8
	JGE     full
	MOVQ    $8, R12
	SUBQ    AX, R12
	VMOVDQU (R13)(R12*4), Y10 // lanes 0..left-1 set
	JMP     start

full:
	VMOVDQU (R13), Y10

start:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ   (SI)(R9*4), BX     // &bt[0*n+j]
	XORQ   R10, R10           // k

loop16:
	MOVQ R8, AX
	SUBQ R10, AX
	CMPQ AX, $16
	JLT  after16
	TERM(0, Y0)
	TERM(1, Y1)
	TERM(2, Y2)
	TERM(3, Y3)
	TERM(4, Y4)
	TERM(5, Y5)
	TERM(6, Y6)
	TERM(7, Y7)
	TERM(8, Y0)
	TERM(9, Y1)
	TERM(10, Y2)
	TERM(11, Y3)
	TERM(12, Y4)
	TERM(13, Y5)
	TERM(14, Y6)
	TERM(15, Y7)
	ADDQ $16, R10
	JMP  loop16

after16:
	CMPQ   R8, $16
	JLT    loop4
	VADDPS Y4, Y0, Y0         // SUM += P_SUM (only after at least one block)
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3

loop4:
	MOVQ R8, AX
	SUBQ R10, AX
	CMPQ AX, $4
	JLT  loop1
	TERM(0, Y0)
	TERM(1, Y1)
	TERM(2, Y2)
	TERM(3, Y3)
	ADDQ $4, R10
	JMP  loop4

loop1:
	CMPQ R10, R8
	JGE  store
	TERM(0, Y0)
	INCQ R10
	JMP  loop1

store:
	VADDPS     Y1, Y0, Y0     // S0 + S1
	VADDPS     Y3, Y2, Y2     // S2 + S3
	VADDPS     Y2, Y0, Y0
	VMASKMOVPS Y0, Y10, (DI)(R9*4)
	ADDQ       $8, R9
	JMP        block

done:
	VZEROUPPER
	RET
