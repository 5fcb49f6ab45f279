#!/usr/bin/env bash
# Issue 15 (vmafs nbd): copies and reads through the NBD server over a Unix socket, each against a
# baseline measured in the same run, interleaved: nbdcopy of a sparse 8 GiB image vs cp --sparse=auto
# of the raw image; sequential nbdcopy to null: vs dd of the raw image from page cache; 4 KiB random
# reads with fio's nbd engine vs fio on the FUSE mount. References that show what limits a miss:
# the same clients against nbdkit's file plugin (C, the same protocol) serving the raw image.
# The server runs for the whole script (as it would), one warm-up pass before each measurement.
# Needs: nbdcopy (libnbd-bin), fio with the nbd engine, nbdkit (reference), fuse3.
source "$(dirname "$0")/lib.sh"
for t in nbdcopy nbdkit; do
  command -v "$t" >/dev/null || { echo "missing tool: $t (apt-get install libnbd-bin nbdkit)" >&2; exit 2; }
done
bench_init nbd
disk_dataset disk2g 3072 2048
synthetic_dataset sparse8g $((8 << 30)) $((64 << 20))
A=$WORK/disk2g.vma; RAW=$WORK/disk2g.raw; S=$WORK/sparse8g.vma; M=$WORK/mnt
SRAW=$WORK/sparse8g-src
[ -f "$SRAW/disk-drive-scsi0.raw" ] || "$VMAFS" extract "$S" "$SRAW" >/dev/null
"$VMAFS" index "$A" >/dev/null
"$VMAFS" index "$S" >/dev/null
warm "$A" "$RAW" "$S" "$SRAW/disk-drive-scsi0.raw"
export XDG_RUNTIME_DIR=$WORK/run XDG_CACHE_HOME=$WORK/cache
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

SERVERS=()
# serve ARCHIVE SOCKET: a background vmafs nbd on SOCKET
serve() {
  local out pid
  out=$("$VMAFS" nbd --listen "unix:$2" "$1")
  pid=$(sed -n 's/.*(pid \([0-9]*\);.*/\1/p' <<<"$out")
  SERVERS+=("$pid")
}
# nbdkit_serve FILE SOCKET: the reference server (C), read-only, for the same file
nbdkit_serve() {
  rm -f "$2"   # nbdkit leaves its socket behind when it is killed
  nbdkit -f -r -U "$2" file "$1" &
  SERVERS+=("$!")
  for _ in $(seq 100); do [ -S "$2" ] && break; sleep 0.05; done
}
stop_servers() {
  local p
  for p in "${SERVERS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  SERVERS=()
}
EXTRA_CLEAN+=("$XDG_RUNTIME_DIR")
trap 'stop_servers; cleanup' EXIT
uri() { echo "nbd+unix:///$1?socket=$2"; }

# --- nbdcopy of an 8 GiB image with 64 MiB of data, to a file (block status skips the holes) ---
D=${CP_DIR:-/dev/shm/vmafs-bench-nbd}; mkdir -p "$D"; EXTRA_CLEAN+=("$D")
serve "$S" "$WORK/sparse.sock"
nbdkit_serve "$SRAW/disk-drive-scsi0.raw" "$WORK/sparse-kit.sock"
U=$(uri drive-scsi0 "$WORK/sparse.sock"); K=$(uri "" "$WORK/sparse-kit.sock")
nbdcopy "$U" "$D/warm.raw"; rm -f "$D"/*
f=(); b=(); k=()
for i in $(seq "$RUNS"); do
  rm -f "$D"/*
  b+=("$(secs cp --sparse=auto "$SRAW/disk-drive-scsi0.raw" "$D/base.raw")")
  f+=("$(secs nbdcopy "$U" "$D/nbd.raw")")
  k+=("$(secs nbdcopy "$K" "$D/kit.raw")")
done
cmp "$D/base.raw" "$D/nbd.raw" || { echo "nbdcopy through vmafs nbd differs" >&2; exit 1; }
dun=$(du -m "$D/nbd.raw" | cut -f1)
rm -f "$D"/*
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); km=$(median "${k[@]}"); r=$(calc "$fm / $bm")
result 15 "nbdcopy of 8 GiB image with 64 MiB data to a file (copy du ${dun} MiB; nbdkit file: $(fmt "$km") s)" "$(fmt "$fm")" s "cp --sparse=auto of the raw image $(fmt "$bm") s" "$(fmt "$r")" "<= 1.5" "$(verdict "$r" le 1.5)"
stop_servers

# --- sequential: nbdcopy to null: of the 3 GiB image with 2 GiB data ---
serve "$A" "$WORK/seq.sock"
nbdkit_serve "$RAW" "$WORK/seq-kit.sock"
U=$(uri drive-scsi0 "$WORK/seq.sock"); K=$(uri "" "$WORK/seq-kit.sock")
size=$(stat -c %s "$RAW")
nbdcopy "$U" null:
f=(); b=(); k=()
for i in $(seq "$RUNS"); do
  b+=("$(dd_mbs "$RAW")")
  f+=("$(calc "$size / $(secs nbdcopy "$U" null:) / 1000000")")
  k+=("$(calc "$size / $(secs nbdcopy "$K" null:) / 1000000")")
done
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); km=$(median "${k[@]}"); r=$(calc "$fm / $bm")
result 15 "sequential nbdcopy to null: of 3 GiB image (2 GiB data) over a Unix socket (nbdkit file: $(fmt "$km") MB/s)" "$(fmt "$fm")" MB/s "dd bs=1M of the raw image (page cache) $(fmt "$bm") MB/s" "$(fmt "$r")" ">= 0.5" "$(verdict "$r" ge 0.5)"

# --- 4 KiB random reads: fio's nbd engine vs fio on the FUSE mount, 2 jobs each at depth 1 ---
# fio_nbd_iops URI JOBS SECONDS [extra]: IOPS of fio --ioengine=nbd (libnbd; one connection per job;
# the engine prints "connected" lines before the JSON)
fio_nbd_iops() {
  local u=$1 jobs=$2 t=$3; shift 3
  fio --name=r --ioengine=nbd --uri="$u" --rw=randread --bs=4k --numjobs="$jobs" --size="$size" \
      --time_based --runtime="$t" --group_reporting --output-format=json "$@" 2>/dev/null |
    $PY -c 'import json,sys; t=sys.stdin.read(); print(round(json.loads(t[t.index("{"):])["jobs"][0]["read"]["iops"]))'
}
mount_vma "$A" "$M"
fio_nbd_iops "$U" 2 3 >/dev/null  # warm-up (JIT)
fio_iops "$M/disk-drive-scsi0.raw" 2 3 --direct=1 >/dev/null
f=(); b=(); k=(); q=()
for i in $(seq "$RUNS"); do
  f+=("$(fio_nbd_iops "$U" 2 10)")
  b+=("$(fio_iops "$M/disk-drive-scsi0.raw" 2 10 --direct=1)")
  k+=("$(fio_nbd_iops "$K" 2 10)")
  q+=("$(fio_nbd_iops "$U" 2 10 --iodepth=16)")
done
umount_vma "$M"
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); km=$(median "${k[@]}"); qm=$(median "${q[@]}"); r=$(calc "$fm / $bm")
result 15 "fio 4k randread, nbd engine, 2 jobs, iodepth 1 (iodepth 16: $qm IOPS; nbdkit file: $km IOPS)" "$fm" IOPS "fio O_DIRECT psync 2 jobs on the FUSE mount $bm IOPS" "$(fmt "$r")" ">= 0.5" "$(verdict "$r" ge 0.5)"
