#include "textflag.h"

// AVX-512 versions of the per-sample kernels of addcols_amd64.s (chosen when
// the CPU has AVX-512F); bit-identical to the generic loops. Partial blocks
// use lane masks, whose masked-off memory is never touched.

// func addColumns32x(v, wt []float32, spikes []int32)
// AVX-512 addColumns: blocks of 4 ZMM, then single ZMMs, then one masked ZMM.
TEXT ·addColumns32x(SB), NOSPLIT, $0-72
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ wt_base+24(FP), SI
	MOVQ spikes_base+48(FP), DX
	MOVQ spikes_len+56(FP), R8
	TESTQ R8, R8
	JE    ac32done
	MOVQ CX, R11
	SHLQ $2, R11         // column stride in bytes
	XORQ R10, R10          // element index
ac32block4:
	MOVQ CX, R9
	SUBQ R10, R9
	CMPQ R9, $64
	JLT  ac32block1
	VMOVUPS 0(DI)(R10*4), Z0
	VMOVUPS 64(DI)(R10*4), Z1
	VMOVUPS 128(DI)(R10*4), Z2
	VMOVUPS 192(DI)(R10*4), Z3
	LEAQ (SI)(R10*4), R12
	XORQ BX, BX
ac32spikes4:
	MOVLQSX (DX)(BX*4), AX
	IMULQ R11, AX
	VADDPS 0(R12)(AX*1), Z0, Z0
	VADDPS 64(R12)(AX*1), Z1, Z1
	VADDPS 128(R12)(AX*1), Z2, Z2
	VADDPS 192(R12)(AX*1), Z3, Z3
	INCQ BX
	CMPQ BX, R8
	JLT  ac32spikes4
	VMOVUPS Z0, 0(DI)(R10*4)
	VMOVUPS Z1, 64(DI)(R10*4)
	VMOVUPS Z2, 128(DI)(R10*4)
	VMOVUPS Z3, 192(DI)(R10*4)
	ADDQ $64, R10
	JMP  ac32block4
ac32block1:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  ac32done
	MOVQ $-1, AX
	CMPQ R9, $16
	JGE  ac32full
	MOVQ $1, AX
	MOVQ R9, CX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
ac32full:
	KMOVW AX, K1           // lanes of this block inside v
	VMOVUPS.Z (DI)(R10*4), K1, Z0
	LEAQ (SI)(R10*4), R12
	XORQ BX, BX
ac32spikes1:
	MOVLQSX (DX)(BX*4), AX
	IMULQ R11, AX
	VADDPS (R12)(AX*1), Z0, K1, Z0
	INCQ BX
	CMPQ BX, R8
	JLT  ac32spikes1
	VMOVUPS Z0, K1, (DI)(R10*4)
	ADDQ $16, R10
	JMP  ac32block1
ac32done:
	VZEROUPPER
	RET

// func addColumns64x(v, wt []float64, spikes []int32)
// AVX-512 addColumns: blocks of 4 ZMM, then single ZMMs, then one masked ZMM.
TEXT ·addColumns64x(SB), NOSPLIT, $0-72
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ wt_base+24(FP), SI
	MOVQ spikes_base+48(FP), DX
	MOVQ spikes_len+56(FP), R8
	TESTQ R8, R8
	JE    ac64done
	MOVQ CX, R11
	SHLQ $3, R11         // column stride in bytes
	XORQ R10, R10          // element index
ac64block4:
	MOVQ CX, R9
	SUBQ R10, R9
	CMPQ R9, $32
	JLT  ac64block1
	VMOVUPD 0(DI)(R10*8), Z0
	VMOVUPD 64(DI)(R10*8), Z1
	VMOVUPD 128(DI)(R10*8), Z2
	VMOVUPD 192(DI)(R10*8), Z3
	LEAQ (SI)(R10*8), R12
	XORQ BX, BX
ac64spikes4:
	MOVLQSX (DX)(BX*4), AX
	IMULQ R11, AX
	VADDPD 0(R12)(AX*1), Z0, Z0
	VADDPD 64(R12)(AX*1), Z1, Z1
	VADDPD 128(R12)(AX*1), Z2, Z2
	VADDPD 192(R12)(AX*1), Z3, Z3
	INCQ BX
	CMPQ BX, R8
	JLT  ac64spikes4
	VMOVUPD Z0, 0(DI)(R10*8)
	VMOVUPD Z1, 64(DI)(R10*8)
	VMOVUPD Z2, 128(DI)(R10*8)
	VMOVUPD Z3, 192(DI)(R10*8)
	ADDQ $32, R10
	JMP  ac64block4
ac64block1:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  ac64done
	MOVQ $-1, AX
	CMPQ R9, $8
	JGE  ac64full
	MOVQ $1, AX
	MOVQ R9, CX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
ac64full:
	KMOVW AX, K1           // lanes of this block inside v
	VMOVUPD.Z (DI)(R10*8), K1, Z0
	LEAQ (SI)(R10*8), R12
	XORQ BX, BX
ac64spikes1:
	MOVLQSX (DX)(BX*4), AX
	IMULQ R11, AX
	VADDPD (R12)(AX*1), Z0, K1, Z0
	INCQ BX
	CMPQ BX, R8
	JLT  ac64spikes1
	VMOVUPD Z0, K1, (DI)(R10*8)
	ADDQ $8, R10
	JMP  ac64block1
ac64done:
	VZEROUPPER
	RET

// func integrateFire32x(v, drive, threshold []float32, leak float32, spikes []int32) int
// AVX-512 integrateAndFire: the spiking neurons' indices are compressed
// into the spike list, in ascending order, one register at a time.
TEXT ·integrateFire32x(SB), NOSPLIT, $0-112
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ drive_base+24(FP), SI
	MOVQ threshold_base+48(FP), R8
	VBROADCASTSS leak+72(FP), Z20
	MOVQ spikes_base+80(FP), DX
	XORQ R10, R10          // element index
	XORQ R11, R11          // spikes so far
	MOVQ $0x0706050403020100, AX
	VMOVQ AX, X1
	MOVQ $0x0f0e0d0c0b0a0908, AX
	VPINSRQ $1, AX, X1, X1
	VPMOVZXBD X1, Z31      // lane indices 0..15
	MOVL $16, AX
	VPBROADCASTD AX, Z30
	MOVQ $1, AX
if32loop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  if32done
	MOVQ $-1, AX
	CMPQ R9, $16
	JGE  if32full
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
if32full:
	KMOVW AX, K1
	VMOVUPS.Z (DI)(R10*4), K1, Z0
	VMULPS Z20, Z0, Z0      // leak*v (exact when leak = 1)
	VADDPS (SI)(R10*4), Z0, K1, Z0
	VMOVUPS Z0, K1, (DI)(R10*4)
	VCMPPS $0x1D, (R8)(R10*4), Z0, K1, K2 // v >= th (ordered, as Go's >=)
	VPCOMPRESSD Z31, K2, Z1
	KMOVW K2, AX
	POPCNTL AX, AX
	MOVQ $1, BX
	MOVQ CX, R12
	MOVQ AX, CX
	SHLQ CX, BX
	MOVQ R12, CX
	DECQ BX
	KMOVW BX, K3
	VMOVDQU32 Z1, K3, (DX)(R11*4)
	ADDQ AX, R11
	VPADDD Z30, Z31, Z31
	ADDQ $16, R10
	JMP  if32loop
if32done:
	MOVQ R11, ret+104(FP)
	VZEROUPPER
	RET

// func integrateFire64x(v, drive, threshold []float64, leak float64, spikes []int32) int
// AVX-512 integrateAndFire: the spiking neurons' indices are compressed
// into the spike list, in ascending order, one register at a time.
TEXT ·integrateFire64x(SB), NOSPLIT, $0-112
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ drive_base+24(FP), SI
	MOVQ threshold_base+48(FP), R8
	VBROADCASTSD leak+72(FP), Z20
	MOVQ spikes_base+80(FP), DX
	XORQ R10, R10          // element index
	XORQ R11, R11          // spikes so far
	MOVQ $0x0706050403020100, AX
	VMOVQ AX, X1
	MOVQ $0x0f0e0d0c0b0a0908, AX
	VPINSRQ $1, AX, X1, X1
	VPMOVZXBD X1, Z31      // lane indices 0..15
	MOVL $8, AX
	VPBROADCASTD AX, Z30
	MOVQ $1, AX
if64loop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  if64done
	MOVQ $-1, AX
	CMPQ R9, $8
	JGE  if64full
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
if64full:
	KMOVW AX, K1
	VMOVUPD.Z (DI)(R10*8), K1, Z0
	VMULPD Z20, Z0, Z0      // leak*v (exact when leak = 1)
	VADDPD (SI)(R10*8), Z0, K1, Z0
	VMOVUPD Z0, K1, (DI)(R10*8)
	VCMPPD $0x1D, (R8)(R10*8), Z0, K1, K2 // v >= th (ordered, as Go's >=)
	VPCOMPRESSD Z31, K2, Z1
	KMOVW K2, AX
	POPCNTL AX, AX
	MOVQ $1, BX
	MOVQ CX, R12
	MOVQ AX, CX
	SHLQ CX, BX
	MOVQ R12, CX
	DECQ BX
	KMOVW BX, K3
	VMOVDQU32 Z1, K3, (DX)(R11*4)
	ADDQ AX, R11
	VPADDD Z30, Z31, Z31
	ADDQ $8, R10
	JMP  if64loop
if64done:
	MOVQ R11, ret+104(FP)
	VZEROUPPER
	RET

// func integrate32x(v, drive []float32, leak float32)
TEXT ·integrate32x(SB), NOSPLIT, $0-52
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ drive_base+24(FP), SI
	VBROADCASTSS leak+48(FP), Z20
	XORQ R10, R10          // element index
in32xloop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  in32xdone
	MOVQ $-1, AX
	CMPQ R9, $16
	JGE  in32xfull
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
in32xfull:
	KMOVW AX, K1
	VMOVUPS.Z (DI)(R10*4), K1, Z0
	VMULPS Z20, Z0, Z0      // leak*v (exact when leak = 1)
	VADDPS (SI)(R10*4), Z0, K1, Z0
	VMOVUPS Z0, K1, (DI)(R10*4)
	ADDQ $16, R10
	JMP  in32xloop
in32xdone:
	VZEROUPPER
	RET

// func fire32x(v, threshold []float32, spikes []int32) int
TEXT ·fire32x(SB), NOSPLIT, $0-80
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ threshold_base+24(FP), R8
	MOVQ spikes_base+48(FP), DX
	XORQ R11, R11          // spikes so far
	MOVQ $0x0706050403020100, AX
	VMOVQ AX, X1
	MOVQ $0x0f0e0d0c0b0a0908, AX
	VPINSRQ $1, AX, X1, X1
	VPMOVZXBD X1, Z31      // lane indices 0..15
	MOVL $16, AX
	VPBROADCASTD AX, Z30
	XORQ R10, R10          // element index
fi32xloop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  fi32xdone
	MOVQ $-1, AX
	CMPQ R9, $16
	JGE  fi32xfull
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
fi32xfull:
	KMOVW AX, K1
	VMOVUPS.Z (DI)(R10*4), K1, Z0
	VCMPPS $0x1D, (R8)(R10*4), Z0, K1, K2 // v >= th (ordered, as Go's >=)
	VPCOMPRESSD Z31, K2, Z1
	KMOVW K2, AX
	POPCNTL AX, AX
	MOVQ $1, BX
	MOVQ CX, R12
	MOVQ AX, CX
	SHLQ CX, BX
	MOVQ R12, CX
	DECQ BX
	KMOVW BX, K3
	VMOVDQU32 Z1, K3, (DX)(R11*4)
	ADDQ AX, R11
	VPADDD Z30, Z31, Z31
	ADDQ $16, R10
	JMP  fi32xloop
fi32xdone:
	MOVQ R11, ret+72(FP)
	VZEROUPPER
	RET

// func integrate64x(v, drive []float64, leak float64)
TEXT ·integrate64x(SB), NOSPLIT, $0-56
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ drive_base+24(FP), SI
	VBROADCASTSD leak+48(FP), Z20
	XORQ R10, R10          // element index
in64xloop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  in64xdone
	MOVQ $-1, AX
	CMPQ R9, $8
	JGE  in64xfull
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
in64xfull:
	KMOVW AX, K1
	VMOVUPD.Z (DI)(R10*8), K1, Z0
	VMULPD Z20, Z0, Z0      // leak*v (exact when leak = 1)
	VADDPD (SI)(R10*8), Z0, K1, Z0
	VMOVUPD Z0, K1, (DI)(R10*8)
	ADDQ $8, R10
	JMP  in64xloop
in64xdone:
	VZEROUPPER
	RET

// func fire64x(v, threshold []float64, spikes []int32) int
TEXT ·fire64x(SB), NOSPLIT, $0-80
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ threshold_base+24(FP), R8
	MOVQ spikes_base+48(FP), DX
	XORQ R11, R11          // spikes so far
	MOVQ $0x0706050403020100, AX
	VMOVQ AX, X1
	MOVQ $0x0f0e0d0c0b0a0908, AX
	VPINSRQ $1, AX, X1, X1
	VPMOVZXBD X1, Z31      // lane indices 0..15
	MOVL $8, AX
	VPBROADCASTD AX, Z30
	XORQ R10, R10          // element index
fi64xloop:
	MOVQ CX, R9
	SUBQ R10, R9
	JLE  fi64xdone
	MOVQ $-1, AX
	CMPQ R9, $8
	JGE  fi64xfull
	MOVQ R9, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	MOVQ v_len+8(FP), CX
fi64xfull:
	KMOVW AX, K1
	VMOVUPD.Z (DI)(R10*8), K1, Z0
	VCMPPD $0x1D, (R8)(R10*8), Z0, K1, K2 // v >= th (ordered, as Go's >=)
	VPCOMPRESSD Z31, K2, Z1
	KMOVW K2, AX
	POPCNTL AX, AX
	MOVQ $1, BX
	MOVQ CX, R12
	MOVQ AX, CX
	SHLQ CX, BX
	MOVQ R12, CX
	DECQ BX
	KMOVW BX, K3
	VMOVDQU32 Z1, K3, (DX)(R11*4)
	ADDQ AX, R11
	VPADDD Z30, Z31, Z31
	ADDQ $8, R10
	JMP  fi64xloop
fi64xdone:
	MOVQ R11, ret+72(FP)
	VZEROUPPER
	RET
