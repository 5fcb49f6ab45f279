#!/usr/bin/env bash
# Two builds, one run: cold random 4 KiB reads (fio O_DIRECT, fresh mount each time, as
# bench/compressed.sh measures them) through BEFORE's and this checkout's vmafs, interleaved
# (before, after, after, before, …) on the same archives, so that load that comes and goes hits
# both builds alike. Made for issue 14 (a change that should move no figure).
#   bench/ab-reads.sh BEFORE_CHECKOUT ARCHIVE...      (BEFORE_CHECKOUT built, e.g. git archive + mvn package)
source "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_CHECKOUT ARCHIVE..." >&2; exit 2; }
BEFORE=$(cd "$1" && pwd); shift
[ -x "$BEFORE/vmafs" ] && [ -f "$BEFORE/cli/target/vmafs.jar" ] || { echo "$BEFORE: no built vmafs" >&2; exit 2; }
bench_init ab-reads
M=$WORK/mnt; IMG=$M/disk-drive-scsi0.raw
AFTER=$VMAFS
SECONDS_PER=${SECONDS_PER:-5}
for a in "$@"; do
  "$AFTER" index "$a" >/dev/null
  warm "$a"
  for j in 1 2; do
    b=(); c=()
    for i in $(seq "$RUNS"); do
      for who in $([ $((i % 2)) = 1 ] && echo "before after" || echo "after before"); do
        if [ "$who" = before ]; then VMAFS=$BEFORE/vmafs; else VMAFS=$AFTER; fi
        mount_vma "$a" "$M"
        v=$(fio_iops "$IMG" "$j" "$SECONDS_PER" --direct=1)
        umount_vma "$M"
        if [ "$who" = before ]; then b+=("$v"); else c+=("$v"); fi
      done
    done
    VMAFS=$AFTER
    bm=$(median "${b[@]}"); cm=$(median "${c[@]}")
    log "$(basename "$a") $j job(s): before ${b[*]} / after ${c[*]}"
    result 14 "random 4k reads, cold cache, $j job(s): $(basename "$a")" "$cm" "reads/s" "before $bm" "$(fmt "$(calc "$cm / $bm")")" "no worse beyond noise" "INFO"
  done
done
