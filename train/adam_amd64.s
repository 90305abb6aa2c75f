#include "textflag.h"

// func adamStepAVX8(p, g, m, v []float32, c *[7]float32)
// For i in 0..len(p)-1 step 8 (len(p) a multiple of 8), with c = {b1, 1-b1,
// b2, 1-b2, sqrtBC2, eps, stepSize}:
//   mi = b1*m + (1-b1)*g;  vi = b2*v + ((1-b2)*g)*g
//   p -= (stepSize*mi) / (sqrt(vi)/sqrtBC2 + eps)
// every operation rounded separately, as the scalar Go loop does.
TEXT ·adamStepAVX8(SB), NOSPLIT, $0-104
	MOVQ p_base+0(FP), DI
	MOVQ p_len+8(FP), CX
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ c+96(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // 1-b1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // 1-b2
	VBROADCASTSS 16(AX), Y12 // sqrtBC2
	VBROADCASTSS 20(AX), Y13 // eps
	VBROADCASTSS 24(AX), Y14 // stepSize
	XORQ BX, BX

loop:
	CMPQ    BX, CX
	JGE     done
	VMOVUPS (SI)(BX*4), Y0   // g
	VMULPS  (R8)(BX*4), Y8, Y1
	VMULPS  Y0, Y9, Y2
	VADDPS  Y2, Y1, Y1       // mi
	VMOVUPS Y1, (R8)(BX*4)
	VMULPS  (R9)(BX*4), Y10, Y3
	VMULPS  Y0, Y11, Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y4, Y3, Y3       // vi
	VMOVUPS Y3, (R9)(BX*4)
	VSQRTPS Y3, Y5
	VDIVPS  Y12, Y5, Y5      // sqrt(vi)/sqrtBC2
	VADDPS  Y13, Y5, Y5      // denom
	VMULPS  Y1, Y14, Y6      // stepSize*mi
	VDIVPS  Y5, Y6, Y6
	VMOVUPS (DI)(BX*4), Y7
	VSUBPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     loop

done:
	VZEROUPPER
	RET
