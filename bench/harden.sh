#!/usr/bin/env bash
# Issue 13 (hardening): what the checks cost, against the vmafs before them, in the same run.
#   BASE_JAR=path/to/vmafs.jar of the version to compare with (default: built from the commit
#   BASE, default the merge base with main, into $BENCH_DIR/harden-base).
# Measured, interleaved new/base, RUNS times each (median):
#   - index pass of a synthetic archive (paged cluster tables vs one flat table)
#   - 4 KiB random reads and a sequential read of a spill-backed mount (CRC-32C per 64 KiB)
#   - mount of a seekable .vma.zst until readable (embedded index checked against the archive)
source "$(dirname "$0")/lib.sh"
# PARTS="index spill seekable" (default: all) picks some of them.
PARTS=${PARTS:-index spill seekable}
part() { [[ " $PARTS " == *" $1 "* ]]; }
bench_init harden
A=$WORK/big.vma

if [ -z "${BASE_JAR:-}" ]; then
  BASE=${BASE:-$(git -C "$ROOT" merge-base HEAD main)}
  B=$BENCH_DIR/harden-base
  if [ ! -f "$B/cli/target/vmafs.jar" ] || [ "$(cat "$B/.commit" 2>/dev/null)" != "$BASE" ]; then
    log "building the baseline $BASE in $B"
    rm -rf "$B"; mkdir -p "$B"
    git -C "$ROOT" archive "$BASE" | tar -x -C "$B"
    (cd "$B" && mvn -q -B -o package -DskipTests -pl cli -am) >&2
    echo "$BASE" > "$B/.commit"
  fi
  BASE_JAR=$B/cli/target/vmafs.jar
fi
export XDG_CACHE_HOME=$WORK/xdg
vm() { local jar=$1; shift; java -XX:+UseSerialGC -jar "$jar" "$@"; }
M=$WORK/mnt; mkdir -p "$M"; IMG=$M/disk-drive-scsi0.raw
mount_jar() { vm "$1" mount "$2" "$M" >/dev/null; MOUNTS+=("$M"); }
umount_jar() { umount_vma "$M"; }

# --- index pass ---
if part index; then
synthetic_dataset big $((${VIRTUAL_GIB:-256} << 30)) $((256 << 20))
n=(); b=()
warm "$A"
for i in $(seq "$RUNS"); do
  n+=("$(secs vm "$JAR" index --reindex "$A")")
  b+=("$(secs vm "$BASE_JAR" index --reindex "$A")")
done
nm=$(median "${n[@]}"); bm=$(median "${b[@]}")
result 13 "index pass, $((${VIRTUAL_GIB:-256})) GiB synthetic archive ($(($(stat -c %s "$A") >> 20)) MiB)" \
  "$(fmt "$nm")" s "before #13 $(fmt "$bm") s" "$(fmt "$(calc "$nm / $bm")")" "<= 1.1" "$(verdict "$(calc "$nm / $bm")" le 1.1)"
fi

# --- spill-backed mount: a single-frame .vma.zst of a 1 GiB disk with 512 MiB of data ---
# Random reads twice per mount: first (most reads are a chunk's first, which the new version
# checks: a 64 KiB read and CRC), then again after a full sequential read and a warm-up.
disk_dataset spill 1024 512
if part spill; then
Z=$WORK/spill.vma.zst
[ -f "$Z" ] || zstd -q --threads=2 < "$WORK/spill.vma" > "$Z"
for jar in "$JAR" "$BASE_JAR"; do vm "$jar" index --reindex "$Z" >/dev/null; done # each its own format
rn=(); rb=(); wn=(); wb=(); sn=(); sb=()
for i in $(seq "$RUNS"); do
  for which in new base; do
    jar=$JAR; [ $which = base ] && jar=$BASE_JAR
    rm -f "$Z.vmafs-index" "$Z.spill"; vm "$jar" index "$Z" >/dev/null
    mount_jar "$jar" "$Z"
    warm "$Z.spill"
    iops=$(fio_iops "$IMG" 1 5 --direct=1)
    mbs=$(dd_mbs "$IMG" count=1024 iflag=direct)
    fio_iops "$IMG" 1 5 --direct=1 >/dev/null # JIT warm-up, not counted
    warm=$(fio_iops "$IMG" 1 10 --direct=1)
    umount_jar
    if [ $which = new ]; then rn+=("$iops"); sn+=("$mbs"); wn+=("$warm"); else rb+=("$iops"); sb+=("$mbs"); wb+=("$warm"); fi
  done
done
r=$(calc "$(median "${rn[@]}") / $(median "${rb[@]}")")
result 13 "spill-backed mount, 4 KiB random reads, 1 job, O_DIRECT, first 5 s after mounting" \
  "$(median "${rn[@]}")" reads/s "before #13 $(median "${rb[@]}")" "$(fmt "$r")" ">= 0.5" "$(verdict "$r" ge 0.5)"
r=$(calc "$(median "${wn[@]}") / $(median "${wb[@]}")")
result 13 "spill-backed mount, 4 KiB random reads, 1 job, O_DIRECT, after a full read" \
  "$(median "${wn[@]}")" reads/s "before #13 $(median "${wb[@]}")" "$(fmt "$r")" ">= 0.8" "$(verdict "$r" ge 0.8)"
r=$(calc "$(median "${sn[@]}") / $(median "${sb[@]}")")
result 13 "spill-backed mount, sequential read dd bs=1M iflag=direct" \
  "$(median "${sn[@]}")" MB/s "before #13 $(median "${sb[@]}")" "$(fmt "$r")" ">= 0.8" "$(verdict "$r" ge 0.8)"
fi

# --- seekable .vma.zst: the embedded index is checked before it is adopted ---
part seekable || exit 0
# Each version converts its own (the embedded index has each one's format).
for which in new base; do
  jar=$JAR; [ $which = base ] && jar=$BASE_JAR
  [ -f "$WORK/seekable-$which.vma.zst" ] || vm "$jar" convert "$WORK/spill.vma" --seekable "$WORK/seekable-$which.vma.zst" >/dev/null
done
mn=(); mb=()
for i in $(seq "$RUNS"); do
  for which in new base; do
    jar=$JAR; [ $which = base ] && jar=$BASE_JAR
    S=$WORK/seekable-$which.vma.zst
    rm -f "$S.vmafs-index"
    t0=$(now); mount_jar "$jar" "$S"; head -c1 "$IMG" >/dev/null
    t1=$(now); umount_jar
    if [ $which = new ]; then mn+=("$(calc "$t1 - $t0")"); else mb+=("$(calc "$t1 - $t0")"); fi
  done
done
r=$(calc "$(median "${mn[@]}") / $(median "${mb[@]}")")
result 13 "first mount of a seekable .vma.zst (embedded index), command -> readable" \
  "$(fmt "$(median "${mn[@]}")")" s "before #13 $(fmt "$(median "${mb[@]}")") s" "$(fmt "$r")" "<= 1.2" "$(verdict "$r" le 1.2)"
