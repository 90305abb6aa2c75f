# Writes chunked_h5py.h5 for TestChunkedByH5py (run with Debian's python3-h5py):
#   /usr/bin/python3 make_chunked.py
import h5py
import numpy as np

with h5py.File("chunked_h5py.h5", "w", libver="earliest") as f:
    grid = np.array([[10 * i + j for j in range(5)] for i in range(7)], dtype="<f4")
    f.create_dataset("grid", data=grid, chunks=(3, 2), compression="gzip", compression_opts=4, shuffle=True)
    f.create_dataset("big_endian", data=np.arange(6, dtype=">f8") / 3, chunks=(4,), fletcher32=True)
    f.create_dataset("int32", data=-1000 * np.arange(9, dtype="<i4"), chunks=(2,), compression="gzip")
    f.create_dataset("fixed", data=np.array([b"ab", b"cde", b""], dtype="S3"))
    f.create_dataset("compound", data=np.zeros(2, dtype=[("a", "<f4"), ("b", "<i2")]))
