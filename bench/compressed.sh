#!/usr/bin/env bash
# Issue 6 (compressed): index pass speed per format against the format's own CLI, random 4 KiB
# reads on a cold block cache, sequential reads through the mount.
# Data: ~1 GiB of semi-compressible disk content (bench/gendisk.py) in a 1100 MiB image, made into
# a VMA and compressed from stdin exactly as vzdump does.
source "$(dirname "$0")/lib.sh"
bench_init compressed
disk_dataset disk1g 1100 1024
V=$WORK/disk1g.vma; M=$WORK/mnt; IMG=$M/disk-drive-scsi0.raw
vbytes=$(stat -c %s "$V")
[ -f "$V.zst" ] || { log "zstd --threads=2"; zstd -q --threads=2 < "$V" > "$V.zst"; }
[ -f "$V.lzo" ] || { log "lzop"; lzop < "$V" > "$V.lzo"; }
[ -f "$V.gz" ] || { log "gzip --rsyncable (slow)"; gzip --rsyncable < "$V" > "$V.gz"; }
[ -f "$WORK/pigz.vma.gz" ] || { log "pigz -p 2 --rsyncable"; pigz -p 2 --rsyncable < "$V" > "$WORK/pigz.vma.gz"; }
[ -f "$WORK/seek.vma.zst" ] || { log "vmafs convert --seekable"; "$VMAFS" convert --seekable="$WORK/seek.vma.zst" "$V.zst" >/dev/null; }
[ -f "$WORK/seek256k.vma.zst" ] || { log "vmafs convert --seekable --frame-size=256K"; "$VMAFS" convert --frame-size=256K --seekable="$WORK/seek256k.vma.zst" "$V.zst" >/dev/null; }
ls -l "$V" "$V".* "$WORK"/*.vma.* >&2

# --- index pass vs the CLI decompressing to /dev/null (both with the file in the page cache) ---
index_vs_cli() {  # FILE LABEL CLI...
  local f=$1 label=$2; shift 2
  warm "$f"
  local c=() x=() i
  for i in $(seq "$RUNS"); do
    c+=("$(secs sh -c "$* < '$f' > /dev/null")")
    x+=("$(secs "$VMAFS" index --reindex "$f")")
  done
  local cm xm r
  cm=$(median "${c[@]}"); xm=$(median "${x[@]}"); r=$(calc "$cm / $xm")
  result 6 "index pass $label ($(($(stat -c %s "$f") >> 20)) MiB), wall incl. JVM" "$(calc "$vbytes / $xm / 1000000" | xargs printf '%.0f')" "MB/s (VMA stream)" "'$*' $(calc "$vbytes / $cm / 1000000" | xargs printf '%.0f') MB/s" "$(fmt "$r")" ">= 0.8" "$(verdict "$r" ge 0.8)"
}
index_vs_cli "$V.zst" ".vma.zst (vzdump single frame: decode + restart points; bench/restart.sh has more)" zstd -q -d -c
index_vs_cli "$V.lzo" ".vma.lzo" lzop -d -c
index_vs_cli "$V.gz" ".vma.gz (gzip --rsyncable)" pigz -d -c
index_vs_cli "$WORK/pigz.vma.gz" ".vma.gz (pigz --rsyncable)" pigz -d -c
x=(); for i in $(seq "$RUNS"); do x+=("$(secs "$VMAFS" index --reindex "$WORK/seek.vma.zst")"); done
result 6 "vmafs index --reindex of the seekable .vma.zst" "$(fmt "$(median "${x[@]}")")" s "-" "-" "report" "INFO"

# --- random 4 KiB reads, cold block cache (fresh mount), fio O_DIRECT, 1 job and 2 jobs ---
# 2 jobs: what the mount's 2 request threads can decode in parallel on the 2 cores.
rand_reads() {  # FILE LABEL TARGET
  local f=$1 label=$2 target=$3 j i
  "$VMAFS" index "$f" >/dev/null
  warm "$f"
  for j in 1 2; do
    local r=()
    for i in $(seq "$RUNS"); do
      mount_vma "$f" "$M"
      r+=("$(fio_iops "$IMG" "$j" 5 --direct=1)")
      umount_vma "$M"
    done
    local rm_; rm_=$(median "${r[@]}")
    result 6 "random 4k reads, cold cache, $j job(s): $label" "$rm_" "reads/s" "-" "-" ">= $target" "$(verdict "$rm_" ge "$target")"
  done
}
rand_reads "$V.lzo" ".vma.lzo" 2000
rand_reads "$WORK/seek.vma.zst" "seekable .vma.zst, 1 MiB frames (convert default)" 2000
rand_reads "$WORK/seek256k.vma.zst" "seekable .vma.zst, 256 KiB frames (convert --frame-size=256K)" 2000
rand_reads "$V.gz" ".vma.gz gzip --rsyncable, 1 MiB checkpoints" 400
rand_reads "$WORK/pigz.vma.gz" ".vma.gz pigz --rsyncable, 1 MiB checkpoints" 400
rand_reads "$V" ".vma uncompressed (reference)" 0

# --- sequential read through the mount vs the CLI ---
seq_vs_cli() {  # FILE LABEL CLI...
  local f=$1 label=$2; shift 2
  warm "$f"
  local c=() s=() i
  for i in $(seq "$RUNS"); do
    c+=("$(secs sh -c "$* < '$f' > /dev/null")")
    mount_vma "$f" "$M" ${MOPTS:-}
    s+=("$(dd_mbs "$IMG")")
    umount_vma "$M"
  done
  local cs sm r
  cs=$(calc "$vbytes / $(median "${c[@]}") / 1000000" | xargs printf '%.0f'); sm=$(median "${s[@]}")
  r=$(calc "$sm / $cs")
  result 6 "sequential read through the mount${MOPTS:+ ($MOPTS)}, dd bs=1M: $label" "$sm" MB/s "'$*' $cs MB/s" "$(fmt "$r")" ">= 0.5" "$(verdict "$r" ge 0.5)"
}
seq_vs_cli "$WORK/seek.vma.zst" "seekable .vma.zst" zstd -q -d -c
seq_vs_cli "$V.lzo" ".vma.lzo" lzop -d -c
MOPTS="--page-cache" seq_vs_cli "$WORK/seek.vma.zst" "seekable .vma.zst" zstd -q -d -c
MOPTS="--page-cache" seq_vs_cli "$V.lzo" ".vma.lzo" lzop -d -c
