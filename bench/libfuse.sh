#!/usr/bin/env bash
# libfuse versions: the same reads through a mount served by the system's libfuse3 and by another
# libfuse3 build (ALT_LIBFUSE3=FILE, e.g. a libfuse 3.17 libfuse3.so.4; see docs/fuse.md §9),
# interleaved run by run. Fresh mount per run; archive and source image in the page cache.
source "$(dirname "$0")/lib.sh"
ALT=${ALT_LIBFUSE3:?set ALT_LIBFUSE3 to the libfuse3 file to compare with the system one}
[ -f "$ALT" ] || { echo "ALT_LIBFUSE3=$ALT is not a file" >&2; exit 2; }
bench_init libfuse
disk_dataset disk1g 1536 1024
A=$WORK/disk1g.vma; RAW=$WORK/disk1g.raw; M=$WORK/mnt
"$VMAFS" index "$A" >/dev/null
warm "$A" "$RAW"
sys_name=$("$VMAFS" --version | grep '^FUSE ')
alt_name=$(VMAFS_LIBFUSE3=$ALT "$VMAFS" --version | grep '^FUSE ')
log "system: $sys_name; other: $alt_name"
case "$alt_name" in "FUSE $ALT "*) ;; *) echo "vmafs does not use $ALT: $alt_name" >&2; exit 1;; esac

s_sys=(); s_alt=(); r_sys=(); r_alt=()
for i in $(seq "$RUNS"); do
  for lib in sys alt; do
    if [ $lib = alt ]; then export VMAFS_LIBFUSE3=$ALT; else unset VMAFS_LIBFUSE3; fi
    mount_vma "$A" "$M"
    eval "s_$lib+=(\"\$(dd_mbs \"\$M/disk-drive-scsi0.raw\")\")"
    eval "r_$lib+=(\"\$(fio_iops \"\$M/disk-drive-scsi0.raw\" 2 5 --direct=1)\")"
    umount_vma "$M"
  done
done
unset VMAFS_LIBFUSE3
sm=$(median "${s_sys[@]}"); sa=$(median "${s_alt[@]}")
result libfuse "cold sequential dd bs=1M of mounted 1.5 GiB image (1 GiB data), ${alt_name#FUSE }" "$sa" MB/s \
  "${sys_name#FUSE } $sm MB/s" "$(fmt "$(calc "$sa / $sm")")" ">= 0.9 (no regression)" "$(verdict "$(calc "$sa / $sm")" ge 0.9)"
rm_=$(median "${r_sys[@]}"); ra=$(median "${r_alt[@]}")
result libfuse "fio 4k randread O_DIRECT psync, 2 jobs, 5 s, ${alt_name#FUSE }" "$ra" IOPS \
  "${sys_name#FUSE } $rm_ IOPS" "$(fmt "$(calc "$ra / $rm_")")" ">= 0.9 (no regression)" "$(verdict "$(calc "$ra / $rm_")" ge 0.9)"
