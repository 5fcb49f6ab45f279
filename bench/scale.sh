#!/usr/bin/env bash
# Issue 5 (scale): a 1 TiB-virtual synthetic archive with ~256 MiB of scattered data.
source "$(dirname "$0")/lib.sh"
bench_init scale
synthetic_dataset big $((1 << 40)) $((256 << 20))
A=$WORK/big.vma; IDX=$A.vmafs-index; M=$WORK/mnt; mkdir -p "$M"
IMG=$M/disk-drive-scsi0.raw
warm "$A"

# mount_until_readable ARCHIVE MNT: seconds from the command to a readable config file
mount_until_readable() {
  local t0 t1
  t0=$(now)
  "$VMAFS" mount "$1" "$2" >/dev/null
  head -c1 "$2/qemu-server.conf" >/dev/null
  t1=$(now); MOUNTS+=("$2")
  calc "$t1 - $t0"
}
rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# --- first mount (index built) and remount (saved index) ---
c=(); first=(); re=(); rss1=(); rss2=()
for i in $(seq "$RUNS"); do
  c+=("$(secs cat "$A")")
  rm -f "$IDX"
  first+=("$(mount_until_readable "$A" "$M")")
  rss1+=("$(rss_kb "$(server_pid "$M")")")
  umount_vma "$M"
  re+=("$(mount_until_readable "$A" "$M")")
  rss2+=("$(rss_kb "$(server_pid "$M")")")
  umount_vma "$M"
done
cat_s=$(median "${c[@]}"); f=$(median "${first[@]}"); r=$(median "${re[@]}")
result 5 "first mount (index build incl.), command -> readable" "$(fmt "$f")" s "-" "-" "<= 3 s" "$(verdict "$f" le 3)"
result 5 "first mount vs cat of the archive ($(($(stat -c %s "$A") >> 20)) MiB, warm)" "$(fmt "$f")" s "cat $(fmt "$cat_s") s" "$(fmt "$(calc "$f / $cat_s")")" "<= 2" "$(verdict "$(calc "$f / $cat_s")" le 2)"
result 5 "remount with saved index, command -> readable" "$(fmt "$r")" s "JVM floor $(fmt "$(jvm_floor)") s" "-" "<= 1.0 s" "$(verdict "$r" le 1.0)"
m1=$(( $(median "${rss1[@]}") / 1024 )); m2=$(( $(median "${rss2[@]}") / 1024 ))
result 5 "mount server peak RSS (VmHWM) after first mount / after remount" "$m1 / $m2" MiB "-" "-" "<= 256 MiB" "$(verdict "$m1" le 256)"
clusters=$(( (1 << 40) >> 16 ))
bpc=$(calc "$(stat -c %s "$IDX") / $clusters")
result 5 "index file size ($(($(stat -c %s "$IDX") >> 20)) MiB for $clusters clusters)" "$(printf '%.4f' "$bpc")" "B/cluster" "-" "-" "<= 8" "$(verdict "$bpc" le 8)"

# --- info / verify / extract: wall, max RSS, progress on a tty, sparse output ---
X=${EXTRACT_DIR:-/dev/shm/vmafs-bench-big}; EXTRA_CLEAN+=("$X"); rm -rf "$X"
for cmd in info verify extract; do
  args=("$A"); [ "$cmd" = extract ] && args+=("$X")
  /usr/bin/time -v "$VMAFS" "$cmd" "${args[@]}" >/dev/null 2>"$WORK/time.$cmd" || { cat "$WORK/time.$cmd" >&2; exit 1; }
  w=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.$cmd")
  rss=$(( $(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.$cmd") / 1024 ))
  # progress bars draw only on a terminal: run once more under script(1) and look for them
  [ "$cmd" = extract ] && rm -rf "$X"
  prog=$(script -qec "$VMAFS $cmd ${args[*]}" /dev/null 2>&1 | tr '\r' '\n' | grep -c '%' || true)
  extra=""
  if [ "$cmd" = extract ]; then
    extra=", output du $(du -sm "$X" | cut -f1) MiB of $(($(stat -c %s "$X/disk-drive-scsi0.raw") >> 30)) GiB"
    rm -rf "$X"
  fi
  result 5 "vmafs $cmd on 1 TiB archive: wall ${w} s, progress lines on a tty: $prog$extra" "$rss" "MiB max RSS" "-" "-" "bounded (<= 256 MiB)" "$(verdict "$rss" le 256)"
done

# --- the mount benchmarks on the big image ---
# Source raw image for the baselines: vmafs extract's sparse output (checked equal to the mount).
SRC=$X/src.raw; rm -rf "$X"; "$VMAFS" extract "$A" "$X" >/dev/null; mv "$X/disk-drive-scsi0.raw" "$SRC"
WIN=16384  # MiB: a 16 GiB window (the whole 1 TiB would take ~10 min through FUSE)
b=(); f=()
for i in $(seq "$RUNS"); do
  b+=("$(dd_mbs "$SRC" count=$WIN)")
  mount_vma "$A" "$M"
  f+=("$(dd_mbs "$IMG" count=$WIN)")
  umount_vma "$M"
done
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
result 5 "big image: sequential cold read of the first 16 GiB, dd bs=1M" "$fm" MB/s "dd raw image $bm MB/s" "$(fmt "$r")" ">= 0.35" "$(verdict "$r" ge 0.35)"

mount_vma "$A" "$M"
fio_iops "$IMG" 2 3 --direct=1 >/dev/null
f=(); b=()
for i in $(seq "$RUNS"); do
  f+=("$(fio_iops "$IMG" 2 10 --direct=1)")
  b+=("$(fio_iops "$SRC" 2 5)")
done
umount_vma "$M"
fm=$(median "${f[@]}"); bm=$(median "${b[@]}")
result 5 "big image: fio 4k randread O_DIRECT, 2 jobs (mostly holes)" "$fm" IOPS "fio buffered raw image $bm IOPS" "$(fmt "$(calc "$fm / $bm")")" ">= 110000 IOPS" "$(verdict "$fm" ge 110000)"

D=$X/cp; mkdir -p "$D"
f=(); b=()
for i in $(seq "$RUNS"); do
  rm -f "$D"/*
  b+=("$(secs cp --sparse=auto "$SRC" "$D/base.raw")")
  mount_vma "$A" "$M"
  f+=("$(secs cp --sparse=auto "$IMG" "$D/fuse.raw")")
  umount_vma "$M"
done
$PY "$ROOT/bench/sparsecmp.py" "$D/base.raw" "$D/fuse.raw" || { echo "cp through the mount differs from the extracted image" >&2; exit 1; }
dum=$(du -m "$D/fuse.raw" | cut -f1)
rm -rf "$X"
fm=$(median "${f[@]}"); bm=$(median "${b[@]}"); r=$(calc "$fm / $bm")
result 5 "big image: cp --sparse=auto of the 1 TiB image (copy du $dum MiB)" "$(fmt "$fm")" s "same cp of the raw image $(fmt "$bm") s" "$(fmt "$r")" "<= 1.5, scales with data" "$(verdict "$r" le 1.5)"
