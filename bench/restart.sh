#!/usr/bin/env bash
# Issue 11 (zstd restart points): vzdump's single-frame .vma.zst read without a spill file.
# Data: ~2 GiB of semi-compressible disk content (bench/gendisk.py) in a 2200 MiB image, made into
# a VMA and compressed from stdin exactly as vzdump does (zstd --threads=2, level 3).
# Each figure is printed with its baseline from the same run, interleaved and repeated (RUNS):
#   index pass            vs  zstd -d to /dev/null (and, for reference, vmafs index --spill)
#   restart data          vs  the .vma.zst size; spill bytes (must be 0)
#   cold random 4 KiB     fio, fresh mount, O_DIRECT, 1 and 2 jobs (against the targets)
#   sequential read       dd through the mount vs zstd -d
#   server RSS            VmHWM of the mount server after the random and sequential reads
source "$(dirname "$0")/lib.sh"
bench_init restart
disk_dataset disk2g 2200 2048
V=$WORK/disk2g.vma; Z=$WORK/disk2g.vma.zst; M=$WORK/mnt; IMG=$M/disk-drive-scsi0.raw
[ -f "$Z" ] || { log "zstd --threads=2 (from a pipe)"; cat "$V" | zstd -q --threads=2 > "$Z"; }
vbytes=$(stat -c %s "$V"); zbytes=$(stat -c %s "$Z")
ls -l "$V" "$Z" >&2
export XDG_CACHE_HOME=$WORK/xdg

index_json() { "$VMAFS" index --json "$@" "$Z"; }
field() { $PY -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- index pass vs zstd -d (file in the page cache), interleaved ---
warm "$Z"
c=(); x=(); s=()
for i in $(seq "$RUNS"); do
  c+=("$(secs sh -c "zstd -q -d -c < '$Z' > /dev/null")")
  x+=("$(secs "$VMAFS" index --reindex "$Z")")
  s+=("$(secs "$VMAFS" index --reindex --spill "$Z")")
done
rm -f "$Z.spill"
cm=$(median "${c[@]}"); xm=$(median "${x[@]}"); sm=$(median "${s[@]}"); r=$(calc "$cm / $xm")
result 11 "index pass, single-frame .vma.zst ($((zbytes >> 20)) MiB), restart points, wall incl. JVM" \
  "$(fmt "$xm")" s "zstd -q -d -c > /dev/null $(fmt "$cm") s; with --spill $(fmt "$sm") s" \
  "$(fmt "$r")" ">= 0.7" "$(verdict "$r" ge 0.7)"

# --- restart data vs the archive; spill bytes ---
"$VMAFS" index --reindex "$Z" >/dev/null
j=$(index_json)
ra=$(echo "$j" | field random_access); pts=$(echo "$j" | field random_access_points)
rb=$(echo "$j" | field random_access_bytes); sb=$(echo "$j" | field spill_bytes)
rr=$(calc "$rb / $zbytes")
result 11 "restart data ($ra, $pts points) / .vma.zst size" "$rb" bytes "$zbytes bytes" "$(fmt "$rr")" "<= 0.03" "$(verdict "$rr" le 0.03)"
spills=$(find "$WORK" -name '*.spill*' | wc -l)
result 11 "spill bytes (index --json) / spill files under the bench dir" "$sb / $spills" "" "-" "-" "0 / 0" \
  "$([ "$sb" = 0 ] && [ "$spills" = 0 ] && echo PASS || echo MISS)"

# --- cold random 4 KiB reads: fresh mount each run, O_DIRECT, with the uncompressed .vma as reference ---
rss=()
for jobs in 1 2; do
  r=(); b=()
  target=$([ "$jobs" = 1 ] && echo 180 || echo 350)
  for i in $(seq "$RUNS"); do
    mount_vma "$Z" "$M"
    r+=("$(fio_iops "$IMG" "$jobs" 10 --direct=1)")
    rss+=("$(awk '/VmHWM/ {print $2}' "/proc/$(server_pid "$M")/status")")
    umount_vma "$M"
    mount_vma "$V" "$M"
    b+=("$(fio_iops "$IMG" "$jobs" 10 --direct=1)")
    umount_vma "$M"
  done
  rm_=$(median "${r[@]}")
  result 11 "random 4k reads, cold cache, $jobs job(s): single-frame .vma.zst via restart points" "$rm_" reads/s \
    "uncompressed .vma $(median "${b[@]}") reads/s" "-" ">= $target" "$(verdict "$rm_" ge "$target")"
done

# --- sequential read through the mount vs zstd -d ---
c=(); q=()
for i in $(seq "$RUNS"); do
  c+=("$(secs sh -c "zstd -q -d -c < '$Z' > /dev/null")")
  mount_vma "$Z" "$M"
  q+=("$(dd_mbs "$IMG")")
  rss+=("$(awk '/VmHWM/ {print $2}' "/proc/$(server_pid "$M")/status")")
  umount_vma "$M"
done
cs=$(calc "$vbytes / $(median "${c[@]}") / 1000000" | xargs printf '%.0f'); qm=$(median "${q[@]}")
r=$(calc "$qm / $cs")
result 11 "sequential read through the mount, dd bs=1M, single-frame .vma.zst" "$qm" "MB/s" \
  "zstd -q -d -c $cs MB/s (VMA stream)" "$(fmt "$r")" ">= 0.6" "$(verdict "$r" ge 0.6)"

peak=$(( $(printf '%s\n' "${rss[@]}" | sort -n | tail -1) / 1024 ))
result 11 "mount server peak RSS (VmHWM), default cache, after random / sequential reads" "$peak" MiB "-" "-" "<= 256" "$(verdict "$peak" le 256)"

# --- the ceiling of cold random reads without FUSE (RestartReadCeiling), interleaved with fio ---
# libzstd: prefix + dictionary + plain libzstd from the point to the end of the 4 KiB (the least
# work a cold read can do); source: ZstdRestartSource as the mount reads, without FUSE.
for i in $(seq "$RUNS"); do
  mount_vma "$Z" "$M"
  f1=$(fio_iops "$IMG" 1 10 --direct=1); f2=$(fio_iops "$IMG" 2 10 --direct=1)
  umount_vma "$M"
  log "fio through the mount: $f1 reads/s (1 job), $f2 reads/s (2 jobs)"
  java -cp "$ROOT/archive-sources/target/test-classes:$JAR" vmafs.source.zstd.RestartReadCeiling "$Z" 10 1 |
    while read -r line; do result 11 "without FUSE, $line" "-" "" "fio 1 job $f1, 2 jobs $f2 reads/s" "-" "-" "-"; done
done
