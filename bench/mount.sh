#!/usr/bin/env bash
# Issue 3 (mount): sequential and random reads through the FUSE mount, cp of a sparse image,
# block cache on/off for an uncompressed archive. Archives and source images in the page cache;
# the mount's own page cache cold (a fresh mount for every run).
source "$(dirname "$0")/lib.sh"
bench_init mount
disk_dataset disk2g 3072 2048
synthetic_dataset sparse8g $((8 << 30)) $((64 << 20))
A=$WORK/disk2g.vma; RAW=$WORK/disk2g.raw; M=$WORK/mnt
"$VMAFS" index "$A" >/dev/null
warm "$A" "$RAW"

# seq_ratio ARCHIVE RAW MNT LABEL [dd args]: cold dd through a fresh mount vs dd of RAW (warm);
# MOPTS: extra 'vmafs mount' options
seq_ratio() {
  local a=$1 raw=$2 m=$3 label=$4; shift 4
  local f=() b=() i
  for i in $(seq "$RUNS"); do
    b+=("$(dd_mbs "$raw" "$@")")
    mount_vma "$a" "$m" ${MOPTS:-}
    f+=("$(dd_mbs "$m/disk-drive-scsi0.raw" "$@")")
    umount_vma "$m"
  done
  local fm bm r
  fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
  result 3 "$label" "$fm" MB/s "dd raw image (page cache) $bm MB/s" "$(fmt "$r")" ">= 0.35" "$(verdict "$r" ge 0.35)"
}
seq_ratio "$A" "$RAW" "$M" "sequential cold read, dd bs=1M of mounted 3 GiB image (2 GiB data)"
MOPTS="--page-cache" seq_ratio "$A" "$RAW" "$M" "the same, mounted with --page-cache"

# --- 4 KiB O_DIRECT random reads, 2 jobs ---
mount_vma "$A" "$M"
fio_iops "$M/disk-drive-scsi0.raw" 2 3 --direct=1 >/dev/null  # warm-up (JIT)
f=(); b=()
for i in $(seq "$RUNS"); do
  f+=("$(fio_iops "$M/disk-drive-scsi0.raw" 2 10 --direct=1)")
  b+=("$(fio_iops "$RAW" 2 5)")
done
umount_vma "$M"
fm=$(median "${f[@]}"); bm=$(median "${b[@]}")
result 3 "fio 4k randread O_DIRECT psync, 2 jobs, mounted image" "$fm" IOPS "fio buffered on raw image (page cache) $bm IOPS" "$(fmt "$(calc "$fm / $bm")")" ">= 110000 IOPS" "$(verdict "$fm" ge 110000)"

# --- cp --sparse=auto of an 8 GiB image holding 64 MiB ---
S=$WORK/sparse8g.vma
SRAW=$WORK/sparse8g-src
[ -f "$SRAW/disk-drive-scsi0.raw" ] || "$VMAFS" extract "$S" "$SRAW" >/dev/null
warm "$S" "$SRAW/disk-drive-scsi0.raw"
D=${CP_DIR:-/dev/shm/vmafs-bench-cp}; mkdir -p "$D"; EXTRA_CLEAN+=("$D")
f=(); b=()
for i in $(seq "$RUNS"); do
  rm -f "$D"/*
  b+=("$(secs cp --sparse=auto "$SRAW/disk-drive-scsi0.raw" "$D/base.raw")")
  mount_vma "$S" "$M"
  f+=("$(secs cp --sparse=auto "$M/disk-drive-scsi0.raw" "$D/fuse.raw")")
  umount_vma "$M"
done
cmp "$D/base.raw" "$D/fuse.raw" || { echo "cp through the mount differs" >&2; exit 1; }
dum=$(du -m "$D/fuse.raw" | cut -f1)
rm -f "$D"/*
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
result 3 "cp --sparse=auto of mounted 8 GiB image with 64 MiB data (copy du ${dum} MiB)" "$(fmt "$fm")" s "same cp of the raw image $(fmt "$bm") s" "$(fmt "$r")" "<= 1.5" "$(verdict "$r" le 1.5)"

# --- block cache on an uncompressed archive: default 256M vs minimal ---
# FileArchiveSource serves .vma reads with pread straight into FUSE's buffer; the cache is never
# consulted. Measured anyway: --cache-size 256M (default) vs 4K.
# Interleaved (256M, 4K, 256M, 4K, ...) so that drift in the machine's load hits both alike.
s_256M=(); r_256M=(); s_4K=(); r_4K=()
for i in $(seq "$RUNS"); do
  for cs in 256M 4K; do
    mount_vma "$A" "$M" --cache-size "$cs"
    eval "s_$cs+=(\"\$(dd_mbs \"\$M/disk-drive-scsi0.raw\")\")"
    eval "r_$cs+=(\"\$(fio_iops \"\$M/disk-drive-scsi0.raw\" 1 5 --direct=1)\")"
    umount_vma "$M"
  done
done
seq_256M=$(median "${s_256M[@]}"); rnd_256M=$(median "${r_256M[@]}")
seq_4K=$(median "${s_4K[@]}"); rnd_4K=$(median "${r_4K[@]}")
r=$(calc "$seq_256M / $seq_4K")
result 3 "raw .vma seq read with block cache 256M" "$seq_256M" MB/s "cache 4K $seq_4K MB/s" "$(fmt "$r")" "not slower (>= 0.9, noise)" "$(verdict "$r" ge 0.9)"
r=$(calc "$rnd_256M / $rnd_4K")
result 3 "raw .vma 4k O_DIRECT random, 1 job, block cache 256M" "$rnd_256M" IOPS "cache 4K $rnd_4K IOPS" "$(fmt "$r")" "not slower (>= 0.9, noise)" "$(verdict "$r" ge 0.9)"
