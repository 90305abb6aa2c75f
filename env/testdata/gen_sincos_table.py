#!/usr/bin/python3
"""Writes sincos_table_libm.txt: the sin/cos table that this machine's glibc libm uses
for |x| < 0.855469 (entry k holds sin(k/128) and cos(k/128), each as a double-double
hi + lo), read out of the installed libm.so.6. It is a cross-check only: ../sincos_table.go
is computed independently with math/big (sincos_table_test.go, `go generate ./env`), and
TestSincosTableAgainstLibm compares the two. The low words of 17 libm entries differ
slightly from the correctly rounded split of the exact value (the printout says which).

    /usr/bin/python3 env/testdata/gen_sincos_table.py [/lib/x86_64-linux-gnu/libm.so.6]
"""
import os
import struct
import sys

import mpmath

LIBM = sys.argv[1] if len(sys.argv) > 1 else "/lib/x86_64-linux-gnu/libm.so.6"
ENTRIES = 110  # k/128 up to 0.8516, the last point below 0.855469

mpmath.mp.prec = 300
exact = []
for k in range(ENTRIES):
    x = mpmath.mpf(k) / 128
    s, c = mpmath.sin(x), mpmath.cos(x)
    exact.append((float(s), float(s - float(s)), float(c), float(c - float(c))))

blob = open(LIBM, "rb").read()
# Locate the table by its first two entries: (0, 0, 1, 0) then sin/cos(1/128) hi parts.
key = struct.pack("<4d", 0.0, 0.0, 1.0, 0.0) + struct.pack("<d", exact[1][0])
pos = blob.find(key)
if pos < 0 or blob.find(key, pos + 1) >= 0:
    sys.exit("sincos table not found exactly once in " + LIBM)
table = struct.unpack("<%dd" % (4 * ENTRIES), blob[pos:pos + 32 * ENTRIES])

differ = []
for k in range(ENTRIES):
    got = table[4 * k:4 * k + 4]
    for j in (0, 2):  # hi words must be the correctly rounded values
        if got[j] != exact[k][j]:
            sys.exit("entry %d word %d is not sin/cos(k/128): wrong table?" % (k, j))
    for j in (1, 3):  # lo words: hi + lo must still carry ~104 correct bits
        if got[j] != exact[k][j]:
            differ.append(k)
            if abs(got[j] - exact[k][j]) > abs(got[j - 1]) * 2.0 ** -104:
                sys.exit("entry %d word %d is far from the exact remainder" % (k, j))
print("table at file offset %#x; low words differing from the exact split in entries %s"
      % (pos, sorted(set(differ))))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sincos_table_libm.txt")
with open(out, "w") as f:
    f.write("# sin(k/128) and cos(k/128) as glibc 2.36's libm.so.6 stores them: k sinHi sinLo cosHi cosLo\n")
    f.write("# read out by gen_sincos_table.py (a cross-check of the computed table, not its source)\n")
    for k in range(ENTRIES):
        f.write("%d %s\n" % (k, " ".join(float.hex(v) for v in table[4 * k:4 * k + 4])))
print("wrote", os.path.normpath(out))
