#!/usr/bin/env bash
# Mount server memory (issue 11: server RSS <= 256 MiB with the default cache). For each format of
# one ~2 GiB disk (bench/gendisk.py) — uncompressed .vma, single-frame .vma.zst (restart points),
# seekable .vma.zst, .vma.lzo, .vma.gz — a fresh mount serves 10 s of fio 4 KiB random reads
# (O_DIRECT) and then a dd of the whole image; printed: reads/s, MB/s and the server's VmHWM.
# Each is measured three ways, interleaved, RUNS times:
#   before   the JVM's default maximum heap (a quarter of RAM: VMAFS_JAVA_OPTS=-Xmx…, as before #11's
#            heap bound), default cache
#   bound    the launcher's heap bound (cache + margin), default cache
#   small    the launcher's heap bound with --cache-size=$SMALL_CACHE (default 64M)
# Then the worst case for the bound (restart points, two drives, no saved index: the index pass
# runs meanwhile): 8 random readers and a dd of each drive at once; the server must survive it.
# ONLY=worst runs only that.
source "$(dirname "$0")/lib.sh"
bench_init rss
disk_dataset disk2g 2200 2048
V=$WORK/disk2g.vma; M=$WORK/mnt; mkdir -p "$M"
SMALL_CACHE=${SMALL_CACHE:-64M}
[ -f "$V.zst" ] || { log "zstd --threads=2 (from a pipe)"; cat "$V" | zstd -q --threads=2 > "$V.zst"; }
[ -f "$WORK/seek.vma.zst" ] || { log "vmafs convert --seekable"; "$VMAFS" convert --seekable="$WORK/seek.vma.zst" "$V.zst" >/dev/null; }
[ -f "$V.lzo" ] || { log "lzop"; lzop < "$V" > "$V.lzo"; }
[ -f "$V.gz" ] || { log "pigz --rsyncable"; pigz -p 2 --rsyncable < "$V" > "$V.gz"; }
export XDG_CACHE_HOME=$WORK/xdg
for a in "$V" "$V.zst" "$WORK/seek.vma.zst" "$V.lzo" "$V.gz"; do "$VMAFS" index "$a" >/dev/null; done
quarter=$(awk '/^MemTotal:/ {print int($2 / 4 / 1024)}' /proc/meminfo)

hwm() { awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$1/status"; }
maxheap() { tr '\0' '\n' < "/proc/$1/cmdline" | sed -n 's/^-Xmx//p' | tail -1; }
# one VARIANT ARCHIVE: prints "reads/s MB/s VmHWM-MiB Xmx"
one() {
  local variant=$1 a=$2 env=() opt=() pid r s h x
  case $variant in
    before) env=(VMAFS_JAVA_OPTS="-Xmx${quarter}m") ;;
    small) opt=(--cache-size="$SMALL_CACHE") ;;
  esac
  env "${env[@]}" "$VMAFS" mount "${opt[@]}" "$a" "$M" >/dev/null
  MOUNTS+=("$M")
  pid=$(server_pid "$M")
  r=$(fio_iops "$M/disk-drive-scsi0.raw" 1 10 --direct=1)
  s=$(dd_mbs "$M/disk-drive-scsi0.raw")
  h=$(hwm "$pid"); x=$(maxheap "$pid")
  umount_vma "$M"
  echo "$r $s $h $x"
}

declare -A R S H X
names=(vma zst-restart zst-seekable lzo gz)
[ "${ONLY:-}" = worst ] && RUNS=0 names=()
archives=("$V" "$V.zst" "$WORK/seek.vma.zst" "$V.lzo" "$V.gz")
for i in $(seq "$RUNS"); do
  for k in "${!names[@]}"; do
    for variant in before bound small; do
      read -r r s h x < <(one "$variant" "${archives[$k]}")
      key=${names[$k]}/$variant
      R[$key]+="$r "; S[$key]+="$s "; H[$key]+="$h "; X[$key]=$x
      log "run $i ${names[$k]} $variant: $r reads/s, $s MB/s, VmHWM $h MiB (-Xmx$x)"
    done
  done
done
for k in "${names[@]}"; do
  for variant in bound small; do
    # shellcheck disable=SC2086
    h=$(printf '%s\n' ${H[$k/$variant]} | sort -n | tail -1); hb=$(printf '%s\n' ${H[$k/before]} | sort -n | tail -1)
    result 11 "$k server VmHWM (max of runs), $variant (-Xmx${X[$k/$variant]}), random then sequential reads" \
      "$h" MiB "before (JVM default heap) $hb MiB" "$(fmt "$(calc "$h / $hb")")" "<= 256" "$(verdict "$h" le 256)"
    # shellcheck disable=SC2086
    r=$(median ${R[$k/$variant]}); rb=$(median ${R[$k/before]}); s=$(median ${S[$k/$variant]}); sb=$(median ${S[$k/before]})
    result 11 "$k random 4k reads, 1 job, fresh mount, $variant" "$r" reads/s "before $rb reads/s" \
      "$(fmt "$(calc "$r / $rb")")" "-" "-"
    result 11 "$k sequential dd bs=1M, $variant" "$s" MB/s "before $sb MB/s" "$(fmt "$(calc "$s / $sb")")" "-" "-"
  done
done

# --- worst case: 8 random readers across restart spans + dd of every drive, while the pass runs ---
T=$WORK/two.vma.zst
if [ ! -f "$T" ]; then
  log "two drives, zstd --threads=2"
  "$VMAFS" create "$WORK/two.vma" "drive-scsi0=$WORK/disk2g.raw" "drive-scsi1=$WORK/disk2g.raw" >/dev/null
  zstd -q --threads=2 < "$WORK/two.vma" > "$T" && rm "$WORK/two.vma"
fi
rm -f "$T".vmafs-index*
"$VMAFS" mount "$T" "$M" >/dev/null
MOUNTS+=("$M")
pid=$(server_pid "$M"); x=$(maxheap "$pid")
for f in "$M"/*.raw; do dd if="$f" of=/dev/null bs=1M 2>/dev/null & done
fio_iops "$M/disk-drive-scsi0.raw" 8 20 --direct=1 >/dev/null || true
wait
alive=$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)
h=$(hwm "$pid" 2>/dev/null || echo 0)
oom=$(cat "$XDG_CACHE_HOME"/vmafs/log/* 2>/dev/null | grep -c OutOfMemoryError || true)
umount_vma "$M"
result 11 "worst case (2 drives, pass running, 8 random readers + dd of each drive), -Xmx$x" \
  "$h" "MiB VmHWM" "server alive: $alive, OutOfMemoryError in the log: $oom" "-" "alive, 0" \
  "$([ "$alive" = yes ] && [ "$oom" = 0 ] && echo PASS || echo MISS)"
