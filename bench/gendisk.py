#!/usr/bin/python3
"""Writes a semi-compressible sparse raw disk image, like a real VM disk.

usage: gendisk.py OUT VIRTUAL_MIB DATA_MIB [SEED]

DATA_MIB of non-zero 4 KiB blocks (about; holes elsewhere) in 64 KiB clusters spread over the
image; inside a data cluster each block is random (25 %, incompressible: media, encrypted or
already compressed files), text-like (40 %: words, log lines), structured (30 %: tables of
little-endian records, counters, small ints) or zero (5 %). zstd -3 compresses it about 2:1.
"""
import os, random, struct, sys

out, virt_mib, data_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
BS, CL = 4096, 65536
clusters = virt_mib * 16
data_blocks_wanted = data_mib * 256
data_clusters = min(clusters, round(data_blocks_wanted / 15.2))  # 5 % zero blocks inside

RAND = os.urandom(48 << 20)
words = [("".join(rnd.choice("etaoinshrdlucmfwypvbgkqjxz") for _ in range(rnd.randint(2, 9))))
         for _ in range(4000)]
lines, n = [], 0
while n < (6 << 20):
    kind = rnd.random()
    if kind < 0.4:
        l = "%s %s[%d]: %s\n" % ("Nov 22 12:%02d:%02d" % (rnd.randint(0, 59), rnd.randint(0, 59)),
            rnd.choice(["sshd", "kernel", "systemd", "cron", "nginx", "postgres"]), rnd.randint(1, 99999),
            " ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14))))
    else:
        l = " ".join(rnd.choice(words) for _ in range(rnd.randint(6, 18))) + ".\n"
    lines.append(l); n += len(l)
TEXT = "".join(lines).encode()
recs = bytearray()
base = rnd.randint(0, 1 << 30)
for i in range((6 << 20) // 32):
    recs += struct.pack("<QIIdHHI", base + i, rnd.randint(0, 1000), i * 7 % 65536,
                        rnd.random() * 100, rnd.randint(0, 3), 0, rnd.choice([0, 0, 1, 0xFFFFFFFF]))
STRUCT = bytes(recs)

def block(kind):
    pool = RAND if kind == 0 else TEXT if kind == 1 else STRUCT
    o = rnd.randrange(0, len(pool) - BS)
    return pool[o:o + BS]

chosen = sorted(rnd.sample(range(clusters), data_clusters))
stored = 0
with open(out, "wb") as f:
    f.truncate(virt_mib << 20)
    for c in chosen:
        for b in range(16):
            r = rnd.random()
            if r >= 0.05:  # zero blocks stay holes
                f.seek(c * CL + b * BS)
                f.write(block(0 if r < 0.30 else 1 if r < 0.70 else 2))
                stored += 1
print("%s: %d MiB virtual, %d data clusters, %.1f MiB in non-zero 4 KiB blocks"
      % (out, virt_mib, len(chosen), stored * BS / 2**20), file=sys.stderr)
