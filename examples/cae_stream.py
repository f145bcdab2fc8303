#!/usr/bin/env python3
"""Read and write cae tensor streams (see cae-stream(5)) with numpy.

    from cae_stream import read, write
    x, labels = read("test.ts")          # x: (N, C, H, W) uint8 or float32
    write("out.ts", x.astype("float32"), labels)

As a program: cae_stream.py info FILE   prints the segments of a stream;
              cae_stream.py copy IN OUT rewrites IN as one segment.
"""
import struct
import sys

import numpy as np

MAGIC = b"\x89TNS\r\n\x1a\n"
DTYPES = {1: np.uint8, 2: np.dtype("<f4")}


def segments(f):
    """Yields (shape, data, labels) for each segment of the open binary file f."""
    first = True
    while True:
        h = f.read(64)
        if not h and not first:
            return
        first = False
        if len(h) < 64 or h[:8] != MAGIC:
            raise ValueError("not a tensor stream or truncated header")
        version, hlen, dtype, flags = struct.unpack_from("<HHBB", h, 8)
        c, hh, w = struct.unpack_from("<III", h, 16)
        (count,) = struct.unpack_from("<Q", h, 32)
        if version != 1 or hlen != 64 or dtype not in DTYPES or flags & ~1:
            raise ValueError("unsupported header")
        dt = np.dtype(DTYPES[dtype])
        rec = [("data", dt, (c, hh, w))]
        if flags & 1:
            rec.insert(0, ("label", "<i4"))
        rt = np.dtype(rec)
        buf = f.read(rt.itemsize * count)
        if len(buf) < rt.itemsize * count:
            raise ValueError("truncated record")
        r = np.frombuffer(buf, rt, count)
        yield (c, hh, w), r["data"], (r["label"] if flags & 1 else None)


def read(path):
    """Reads a whole stream with uniform shape: returns (x, labels or None)."""
    with (sys.stdin.buffer if path == "-" else open(path, "rb")) as f:
        segs = list(segments(f))
    x = np.concatenate([s[1] for s in segs])
    labels = None
    if all(s[2] is not None for s in segs):
        labels = np.concatenate([s[2] for s in segs])
    return x, labels


def write(path, x, labels=None):
    """Writes x (N, C, H, W), uint8 or float32, as one segment."""
    x = np.ascontiguousarray(x)
    dtype = {np.dtype(np.uint8): 1, np.dtype(np.float32): 2}[x.dtype]
    n, c, h, w = x.shape
    head = bytearray(64)
    head[:8] = MAGIC
    struct.pack_into("<HHBB", head, 8, 1, 64, dtype, 1 if labels is not None else 0)
    struct.pack_into("<III", head, 16, c, h, w)
    struct.pack_into("<Q", head, 32, n)
    with (sys.stdout.buffer if path == "-" else open(path, "wb")) as f:
        f.write(head)
        if labels is None:
            f.write(x.astype(x.dtype.newbyteorder("<")).tobytes())
        else:
            rt = np.dtype([("label", "<i4"), ("data", x.dtype.newbyteorder("<"), (c, h, w))])
            r = np.empty(n, rt)
            r["label"] = labels
            r["data"] = x
            f.write(r.tobytes())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "info":
        with open(sys.argv[2], "rb") as f:
            for i, (shape, data, labels) in enumerate(segments(f)):
                print(i + 1, data.dtype, "x".join(map(str, shape)), len(data),
                      "labelled" if labels is not None else "")
    elif len(sys.argv) == 4 and sys.argv[1] == "copy":
        write(sys.argv[3], *read(sys.argv[2]))
    else:
        sys.exit(__doc__)
