#!/usr/bin/env python3
"""Writes the crafted integer model files of the bad-input catalogue from
model_v1.pim (a valid model): each carries a correct checksum, so the reader
must find what is wrong inside. Run from this directory; the outputs are
committed. The array file layout is in training/array_file.h."""
import struct

FNV_BASIS = 14695981039346656037  # FNV-1a 64 offset basis (format version 2)
LEGACY_BASIS = 1469598103934665603  # what version 1 files were hashed from
FNV_PRIME = 1099511628211


def fnv1a(data, basis):
    h = basis
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def read_entries(path):
    b = open(path, "rb").read()
    assert b[:8] == b"PALSIMAR"
    version, n = struct.unpack("<IQ", b[8:20])
    assert fnv1a(b[:-8], LEGACY_BASIS if version == 1 else FNV_BASIS) == struct.unpack("<Q", b[-8:])[0]
    pos, entries = 20, []
    for _ in range(n):
        (length,) = struct.unpack("<I", b[pos:pos + 4])
        pos += 4
        name = b[pos:pos + length]
        pos += length
        dtype = b[pos]
        (ndim,) = struct.unpack("<I", b[pos + 1:pos + 5])
        pos += 5
        dims = list(struct.unpack("<%dq" % ndim, b[pos:pos + 8 * ndim]))
        pos += 8 * ndim
        (nbytes,) = struct.unpack("<Q", b[pos:pos + 8])
        pos += 8
        entries.append([name, dtype, dims, b[pos:pos + nbytes]])
        pos += nbytes
    return entries


def write(path, entries):
    out = b"PALSIMAR" + struct.pack("<IQ", 2, len(entries))
    for name, dtype, dims, data in entries:
        out += struct.pack("<I", len(name)) + name + bytes([dtype]) + struct.pack("<I", len(dims))
        out += struct.pack("<%dq" % len(dims), *dims) + struct.pack("<Q", len(data)) + data
    open(path, "wb").write(out + struct.pack("<Q", fnv1a(out, FNV_BASIS)))


def text(entries, name, value):
    for e in entries:
        if e[0] == name:
            e[2], e[3] = [len(value)], value


base = read_entries("model_v1.pim")
# A second op/fc/scale after the first: the old reader kept the last one.
dup = [list(e) for e in base]
first = next(e for e in dup if e[0] == b"op/fc/scale")
dup.append([first[0], first[1], first[2], bytes(len(first[3]))])
write("model_duplicate_entry.pim", dup)
# meta/source (printed by evaluate --json) with a byte that is not UTF-8.
bad = [list(e) for e in base]
text(bad, b"meta/source", b"tiny\xffrun")
write("model_source_not_utf8.pim", bad)
# The same model as format version 2 (standard FNV-1a 64).
write("model_fnv_v2.pim", [list(e) for e in base])
