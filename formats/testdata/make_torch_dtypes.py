"""Writes torch_dtypes_{zip,legacy,proto4}.pt and torch_dtypes.json: one
tensor per dtype with the values float16/bfloat16 decoders get wrong
(subnormals, -0, Inf, NaN) and int64 beyond 2^53, plus a non-contiguous
float16 view. Run with a Python that has torch: /usr/bin/python3 make_torch_dtypes.py
"""
import collections, json, math, struct
import torch

def signed16(bits):
    return [b - 0x10000 if b >= 0x8000 else b for b in bits]

def tensors():
    t = collections.OrderedDict()
    half_bits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x8001, 0x0400, 0x7bff, 0x3555, 0x7c00, 0xfc00, 0x7e00, 0x3c00]
    t["half"] = torch.tensor(signed16(half_bits), dtype=torch.int16).view(torch.float16)
    t["half_t"] = t["half"].reshape(3, 4).t()  # shares the storage, strides (1, 4)
    bf_bits = [0x0000, 0x8000, 0x0001, 0x007f, 0x3f80, 0x7f80, 0xff80, 0x7fc0, 0x4049, 0xc2f7]
    t["bf16"] = torch.tensor(signed16(bf_bits), dtype=torch.int16).view(torch.bfloat16)
    t["f32"] = torch.tensor([0.0, -0.0, 1e-45, 3.4028234663852886e38, float("inf"), float("-inf"), float("nan"), 0.1], dtype=torch.float32)
    t["f64"] = torch.tensor([0.0, -0.0, 5e-324, 1.7976931348623157e308, float("nan"), 0.1], dtype=torch.float64)
    t["i64"] = torch.tensor([0, -1, 2**53 + 1, -(2**63), 2**63 - 1], dtype=torch.int64)
    t["i32"] = torch.tensor([0, -1, 2**31 - 1, -(2**31)], dtype=torch.int32)
    t["i16"] = torch.tensor([0, -1, 32767, -32768], dtype=torch.int16)
    t["i8"] = torch.tensor([0, -1, 127, -128], dtype=torch.int8)
    t["u8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    t["b"] = torch.tensor([[True, False], [False, True]])
    t["empty"] = torch.zeros(0, 3)
    return t

def encode(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return str(v)  # exact, as a string
    return float(v).hex() if not math.isnan(v) else "nan"

ts = tensors()
torch.save(ts, "torch_dtypes_zip.pt")
torch.save(ts, "torch_dtypes_legacy.pt", _use_new_zipfile_serialization=False)
torch.save(ts, "torch_dtypes_proto4.pt", pickle_protocol=4)
out = collections.OrderedDict()
for name, x in ts.items():
    out[name] = {
        "shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", ""),
        "stride": list(x.stride()), "storage_offset": x.storage_offset(),
        "values": [encode(v) for v in x.flatten().tolist()],
    }
json.dump(out, open("torch_dtypes.json", "w"), indent=1)
