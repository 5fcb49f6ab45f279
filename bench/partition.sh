#!/usr/bin/env bash
# Partition files: a partition file read against the same range of its disk through the same
# mount (what the slice view costs), and cp --sparse of the partition file against cp --sparse of
# the whole disk file (the partition covers all of the disk's data). Archive in the page cache,
# the mount in its default direct-I/O mode, so every read reaches vmafs.
source "$(dirname "$0")/lib.sh"
command -v sgdisk >/dev/null || { echo "missing tool: sgdisk (apt-get install gdisk)" >&2; exit 2; }
bench_init partition
N=gpt2g
if [ ! -f "$WORK/$N.vma" ]; then
  log "generating $N: 2048 MiB virtual, ~1024 MiB data, a GPT with one partition over it"
  gen_disk "$WORK/$N.raw" 2048 1024
  sgdisk -o -n 1:2048:0 -t 1:8300 "$WORK/$N.raw" >/dev/null
  "$VMAFS" create "$WORK/$N.vma" "drive-scsi0=$WORK/$N.raw" >/dev/null
fi
A=$WORK/$N.vma; M=$WORK/mnt
"$VMAFS" index "$A" >/dev/null
warm "$A"
mount_vma "$A" "$M"
DISK=$M/disk-drive-scsi0.raw; P=$DISK.p1
start=$((2048 * 512)); size=$(stat -c %s "$P")
dd_mbs "$P" >/dev/null; dd_mbs "$DISK" >/dev/null   # warm-up (JIT)

# Interleaved, the order swapped every run: whichever of two back-to-back reads goes first is
# often slower here.
f=(); b=()
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then
    b+=("$(dd_mbs "$DISK" iflag=skip_bytes,count_bytes skip=$start count=$size)")
    f+=("$(dd_mbs "$P")")
  else
    f+=("$(dd_mbs "$P")")
    b+=("$(dd_mbs "$DISK" iflag=skip_bytes,count_bytes skip=$start count=$size)")
  fi
done
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
result partition "sequential read, dd bs=1M of the partition file" "$fm" MB/s \
  "dd of the same range of the disk file, same mount $bm MB/s" "$(fmt "$r")" ">= 0.9" "$(verdict "$r" ge 0.9)"

D=${CP_DIR:-/dev/shm/vmafs-bench-part}; mkdir -p "$D"; EXTRA_CLEAN+=("$D")
f=(); b=()
for i in $(seq "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then
    rm -f "$D"/*; b+=("$(secs cp --sparse=auto "$DISK" "$D/disk.raw")")
    rm -f "$D"/*; f+=("$(secs cp --sparse=auto "$P" "$D/p1.raw")")
  else
    rm -f "$D"/*; f+=("$(secs cp --sparse=auto "$P" "$D/p1.raw")")
    rm -f "$D"/*; b+=("$(secs cp --sparse=auto "$DISK" "$D/disk.raw")")
  fi
done
[ -f "$D/p1.raw" ] || cp --sparse=auto "$P" "$D/p1.raw"
cmp "$D/p1.raw" <(dd if="$WORK/$N.raw" bs=1M iflag=skip_bytes,count_bytes skip=$start count=$size status=none) ||
  { echo "the copied partition differs from the source range" >&2; exit 1; }
rm -f "$D"/*
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
result partition "cp --sparse=auto of the partition file (2 GiB, 1 GiB data)" "$(fmt "$fm")" s \
  "cp --sparse=auto of the disk file, same mount $(fmt "$bm") s" "$(fmt "$r")" "<= 1.1" "$(verdict "$r" le 1.1)"
umount_vma "$M"
