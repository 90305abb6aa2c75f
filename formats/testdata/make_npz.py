"""Writes dtypes_compressed.npz with numpy.savez_compressed (deflated members),
so the Go reader is checked against numpy's own writer on every dtype it reads.

Run: /usr/bin/python3 make_npz.py   (from formats/testdata)
Every array holds closed-form values the Go test recomputes.
"""
import numpy as np

base = np.arange(6, dtype=np.float64).reshape(2, 3) / 4 - 0.5   # [[-0.5,-0.25,0],[0.25,0.5,0.75]]
np.savez_compressed(
    "dtypes_compressed.npz",
    f4=base.astype("<f4"),
    f8_big=base.astype(">f8"),
    f2=np.array([1.0, -2.0, 65504.0, 2.0**-24, -0.0], dtype="<f2"),
    i8=np.array([-3, 0, 2**40], dtype="<i8"),
    i4=np.array([-7, 7], dtype="<i4"),
    u1=np.array([0, 255], dtype="u1"),
    b1=np.array([True, False, True]),
    fortran=np.asfortranarray(base.astype("<f8")),
    scalar=np.float64(2.5),
    empty=np.zeros((0, 4), dtype="<f4"),
    big=np.ones((300, 50), dtype="<f4"),
)
print(dict(np.load("dtypes_compressed.npz")))
