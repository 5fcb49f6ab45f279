#!/usr/bin/env bash
# Issue 2 (core): index build and extract of an uncompressed archive holding 2 GiB of data.
source "$(dirname "$0")/lib.sh"
bench_init core
disk_dataset disk2g 3072 2048
synthetic_dataset sparse1t $((1 << 40)) $((256 << 20))
A=$WORK/disk2g.vma
floor=$(jvm_floor)
log "JVM floor ('vmafs --version'): $(fmt "$floor") s"

# --- index build vs cat (both warm) ---
warm "$A"
c=(); ix=()
for i in $(seq "$RUNS"); do
  c+=("$(secs cat "$A")")
  ix+=("$(secs "$VMAFS" index --reindex "$A")")
done
cat_s=$(median "${c[@]}"); idx_s=$(median "${ix[@]}")
r=$(calc "$idx_s / $cat_s")
result 2 "index build, 2 GiB data .vma ($(($(stat -c %s "$A") >> 20)) MiB), wall incl. JVM" "$(fmt "$idx_s")" s "cat $(fmt "$cat_s") s" "$(fmt "$r")" "<= 0.05" "$(verdict "$r" le 0.05)"
net=$(calc "$idx_s - $floor"); r2=$(calc "$net / $cat_s")
result 2 "index build minus JVM floor ($(fmt "$floor") s)" "$(fmt "$net")" s "cat $(fmt "$cat_s") s" "$(fmt "$r2")" "<= 0.05" "$(verdict "$r2" le 0.05)"

# --- sparse archive: extents per second ---
S=$WORK/sparse1t.vma
warm "$S"
ext=$("$VMAFS" index --json --reindex "$S" | $PY -c 'import json,sys; print(json.load(sys.stdin)["extents"])')
c=(); ix=()
for i in $(seq "$RUNS"); do
  c+=("$(secs cat "$S")")
  ix+=("$(secs "$VMAFS" index --reindex "$S")")
done
cat_s=$(median "${c[@]}"); idx_s=$(median "${ix[@]}")
eps=$(calc "$ext / $idx_s"); epsn=$(calc "$ext / ($idx_s - $floor)")
result 2 "sparse 1 TiB / 256 MiB archive: $ext extents, index wall" "$(fmt "$idx_s")" s "cat $(fmt "$cat_s") s" "$(fmt "$(calc "$idx_s / $cat_s")")" "report" "INFO"
result 2 "extents indexed per second (wall incl. JVM / minus JVM floor)" "$(printf '%.0f / %.0f' "$eps" "$epsn")" "extents/s" "-" "-" "report" "INFO"

# --- extract vs cp --sparse=always ---
# Outputs go to tmpfs: writeback of 2 GiB to the shared disk made both sides swing 2-3x.
X=${EXTRACT_DIR:-/dev/shm/vmafs-bench-x}; mkdir -p "$X"; EXTRA_CLEAN+=("$X")
warm "$A" "$WORK/disk2g.raw"
e=(); p=()
for i in $(seq "$RUNS"); do
  rm -rf "$X"/*; sync
  p+=("$(secs cp --sparse=always "$WORK/disk2g.raw" "$X/copy.raw")")
  rm -rf "$X"/*; sync
  e+=("$(secs "$VMAFS" extract "$A" "$X/out")")
done
du_x=$(du -sm "$X/out" | cut -f1)
cmp "$WORK/disk2g.raw" "$X/out/disk-drive-scsi0.raw" || { echo "extract output differs from the source image" >&2; exit 1; }
rm -rf "$X"
cp_s=$(median "${p[@]}"); ex_s=$(median "${e[@]}")
r=$(calc "$ex_s / $cp_s")
result 2 "vmafs extract, 2 GiB data (output du ${du_x} MiB, equal to source)" "$(fmt "$ex_s")" s "cp --sparse=always $(fmt "$cp_s") s" "$(fmt "$r")" "<= 1.3" "$(verdict "$r" le 1.3)"
