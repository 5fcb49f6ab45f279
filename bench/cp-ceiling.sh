#!/usr/bin/env bash
# Issue 3 (mount), the FUSE ceiling for "cp --sparse=auto of a mounted 8 GiB image holding 64 MiB
# of data <= 1.5 x the same cp of the source raw image" (the cp section of mount.sh).
# cp costs two lseeks (SEEK_DATA, SEEK_HOLE) and one or more reads per data extent, each a FUSE
# round trip. bench/fuse-ceiling.c serves the same raw image through a minimal C libfuse3 server
# (direct_io, like vmafs): its ratio is what FUSE itself allows on this machine, the gap to vmafs
# is the Java layer. Interleaved, every iteration copies:
#   (a) the raw source image (baseline)            (b) disk.raw through fuse-ceiling, multithreaded
#   (c) disk.raw through fuse-ceiling -s           (d) a vmafs mount kept mounted (warm: JIT done)
#   (e) a fresh vmafs mount per copy (what mount.sh measures)
# and, with server and cp pinned to one CPU (PIN_CPU, default 0; a request then wakes the server
# on cp's CPU instead of an idle one, which in a VM costs an IPI and a halt exit per round trip):
#   (f) the raw image, cp under taskset (baseline of g, h)   (g) fuse-ceiling -s   (h) vmafs, kept
# and with the page cache (FC_PAGE_CACHE=1 / --page-cache, kept mounts, so only the lseeks reach
# the server after the warm-up copy): (i) fuse-ceiling -s  (j) the same pinned  (k) vmafs
# Then lseek(SEEK_DATA) and 4 KiB pread latencies on each, and cp's syscall counts (strace -c).
# NO_BUILD=1: do not build (bench_init), and run a private copy of the launcher and jar so that
# source edits during the run cannot make the launcher rebuild; needs a built jar and test classes.
source "$(dirname "$0")/lib.sh"
if [ "${NO_BUILD:-0}" = 1 ]; then
  build() {
    [ -f "$JAR" ] && [ -d "$ROOT/tests/target/test-classes/vmafs/e2e" ] ||
      { echo "NO_BUILD=1 needs $JAR and the test classes" >&2; exit 2; }
  }
fi
for t in gcc pkg-config strace; do
  command -v "$t" >/dev/null || { echo "missing tool: $t (apt-get install gcc pkg-config strace)" >&2; exit 2; }
done
pkg-config --exists fuse3 || { echo "missing libfuse3-dev (apt-get install libfuse3-dev)" >&2; exit 2; }
bench_init cp-ceiling
if [ "${NO_BUILD:-0}" = 1 ]; then
  mkdir -p "$WORK/snap/cli/target"
  cp "$ROOT/vmafs" "$WORK/snap/vmafs"; cp "$JAR" "$WORK/snap/cli/target/vmafs.jar"
  VMAFS=$WORK/snap/vmafs; JAR=$WORK/snap/cli/target/vmafs.jar
fi

# --- the C server and a latency probe, built into $WORK ---
FC=$WORK/fuse-ceiling; LAT=$WORK/lat
if [ ! -x "$FC" ] || [ "$ROOT/bench/fuse-ceiling.c" -nt "$FC" ]; then
  gcc -O2 -Wall -o "$FC" "$ROOT/bench/fuse-ceiling.c" $(pkg-config --cflags --libs fuse3)
fi
if [ ! -x "$LAT" ]; then
  cat > "$WORK/lat.c" <<'EOF'
/* lat FILE N: mean us per lseek(fd, 0, SEEK_DATA) and per 4 KiB pread at the first data */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  int fd = open(argv[1], O_RDONLY), n = atoi(argv[2]); static char buf[4096];
  if (fd < 0) { perror(argv[1]); return 1; }
  off_t d = lseek(fd, 0, SEEK_DATA); if (d < 0) { perror("lseek"); return 1; }
  double t0 = now();
  for (int i = 0; i < n; i++) if (lseek(fd, 0, SEEK_DATA) != d) { perror("lseek"); return 1; }
  double t1 = now();
  for (int i = 0; i < n; i++) if (pread(fd, buf, sizeof buf, d) != sizeof buf) { perror("pread"); return 1; }
  double t2 = now();
  printf("%.2f %.2f\n", (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6);
  return 0;
}
EOF
  gcc -O2 -Wall -o "$LAT" "$WORK/lat.c"
fi

# --- dataset: the same as mount.sh's cp ---
synthetic_dataset sparse8g $((8 << 30)) $((64 << 20))
S=$WORK/sparse8g.vma
SRAW=$WORK/sparse8g-src
[ -f "$SRAW/disk-drive-scsi0.raw" ] || "$VMAFS" extract "$S" "$SRAW" >/dev/null
RAW=$SRAW/disk-drive-scsi0.raw
warm "$S" "$RAW"
D=${CP_DIR:-/dev/shm/vmafs-bench-cp-ceiling}; mkdir -p "$D"; EXTRA_CLEAN+=("$D")

# --- mounts kept for the whole run; the C servers run in the foreground (-f) as our children ---
FC_PIDS=(); FC_MNTS=()
mount_fc() {  # mount_fc MNT [fuse-ceiling options]
  local m=$1; shift
  mkdir -p "$m"
  ${PIN:+taskset -c "$PIN"} "$FC" "$RAW" "$m" -f -o ro "$@" 2>"$WORK/fc-$(basename "$m").log" &
  FC_PIDS+=($!); FC_MNTS+=("$m")
  for _ in $(seq 100); do [ -f "$m/disk.raw" ] && return 0; sleep 0.05; done
  echo "fuse-ceiling did not mount $m" >&2; exit 1
}
fc_cleanup() {
  local m p
  for m in "${FC_MNTS[@]:-}"; do [ -n "$m" ] && mountpoint -q "$m" && { fusermount3 -u "$m" || fusermount3 -u -z "$m"; }; done
  for p in "${FC_PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
  return 0
}
trap 'fc_cleanup; cleanup' EXIT
MC=$WORK/mnt-c; MCS=$WORK/mnt-cs; MW=$WORK/mnt-warm; MF=$WORK/mnt-fresh
MCP=$WORK/mnt-cs-pinned; MWP=$WORK/mnt-warm-pinned; P=${PIN_CPU:-0}; PINNED=(taskset -c "$P")
mount_fc "$MC"
mount_fc "$MCS" -s
PIN=$P mount_fc "$MCP" -s
mount_vma "$S" "$MW"
mkdir -p "$MWP"; "${PINNED[@]}" "$VMAFS" mount "$S" "$MWP" >/dev/null; MOUNTS+=("$MWP")
MPC=$WORK/mnt-cs-pc; MPCP=$WORK/mnt-cs-pc-pinned; MWPC=$WORK/mnt-warm-pc
FC_PAGE_CACHE=1 mount_fc "$MPC" -s
FC_PAGE_CACHE=1 PIN=$P mount_fc "$MPCP" -s
mount_vma "$S" "$MWPC" --page-cache
IMG=disk-drive-scsi0.raw
log "read_ahead_kb: fuse-ceiling $(read_ahead_kb "$MC"), vmafs $(read_ahead_kb "$MW")"

# untimed warm-up of every path (JIT of the kept vmafs server), checked with cmp
cp --sparse=auto "$RAW" "$D/base.raw"
for src in "$MC/disk.raw" "$MCS/disk.raw" "$MCP/disk.raw" "$MW/$IMG" "$MWP/$IMG" \
           "$MPC/disk.raw" "$MPCP/disk.raw" "$MWPC/$IMG"; do
  pin=(); [[ $src == *-pinned/* ]] && pin=("${PINNED[@]}")
  "${pin[@]}" cp --sparse=auto "$src" "$D/warmup.raw"
  cmp "$D/base.raw" "$D/warmup.raw" || { echo "cp of $src differs" >&2; exit 1; }
  rm -f "$D/warmup.raw"
done

# --- how many syscalls one cp makes (untimed) ---
for src in "$RAW" "$MC/disk.raw"; do
  strace -c -f -e trace=lseek,read,write,copy_file_range -o "$WORK/strace.txt" \
    cp --sparse=auto "$src" "$D/strace.raw"
  rm -f "$D/strace.raw"
  log "strace -c cp --sparse=auto $src:"
  awk '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ {printf "#   %-16s %s calls%s\n", $NF, $4, ($5 ~ /^[0-9]+$/ ? ", " $5 " errors" : "")}' "$WORK/strace.txt" >&2
done

# --- interleaved timed copies ---
t_raw=(); t_c=(); t_cs=(); t_warm=(); t_fresh=(); t_rawp=(); t_csp=(); t_warmp=()
t_pc=(); t_pcp=(); t_wpc=()
for i in $(seq "$RUNS"); do
  rm -f "$D"/*
  t_raw+=("$(secs cp --sparse=auto "$RAW" "$D/base.raw")")
  t_c+=("$(secs cp --sparse=auto "$MC/disk.raw" "$D/c.raw")")
  t_cs+=("$(secs cp --sparse=auto "$MCS/disk.raw" "$D/cs.raw")")
  t_warm+=("$(secs cp --sparse=auto "$MW/$IMG" "$D/warm.raw")")
  mount_vma "$S" "$MF"
  t_fresh+=("$(secs cp --sparse=auto "$MF/$IMG" "$D/fresh.raw")")
  umount_vma "$MF"
  t_rawp+=("$(secs "${PINNED[@]}" cp --sparse=auto "$RAW" "$D/rawp.raw")")
  t_csp+=("$(secs "${PINNED[@]}" cp --sparse=auto "$MCP/disk.raw" "$D/csp.raw")")
  t_warmp+=("$(secs "${PINNED[@]}" cp --sparse=auto "$MWP/$IMG" "$D/warmp.raw")")
  t_pc+=("$(secs cp --sparse=auto "$MPC/disk.raw" "$D/pc.raw")")
  t_pcp+=("$(secs "${PINNED[@]}" cp --sparse=auto "$MPCP/disk.raw" "$D/pcp.raw")")
  t_wpc+=("$(secs cp --sparse=auto "$MWPC/$IMG" "$D/wpc.raw")")
  for f in c cs warm fresh rawp csp warmp pc pcp wpc; do   # sparse-aware compare (cmp would read 8 GiB of zeros each)
    $PY "$ROOT/bench/sparsecmp.py" "$D/base.raw" "$D/$f.raw" || { echo "$f copy differs" >&2; exit 1; }
  done
  log "run $i: raw ${t_raw[-1]} c ${t_c[-1]} c-s ${t_cs[-1]} warm ${t_warm[-1]} fresh ${t_fresh[-1]} | pinned: raw ${t_rawp[-1]} c-s ${t_csp[-1]} warm ${t_warmp[-1]} | page cache: c-s ${t_pc[-1]} c-s pinned ${t_pcp[-1]} warm ${t_wpc[-1]}"
done
for f in c cs warm fresh rawp csp warmp pc pcp wpc; do cmp "$D/base.raw" "$D/$f.raw"; done   # the last run, byte for byte
dum=$(du -m "$D/base.raw" | cut -f1)
rm -f "$D"/*

spread() { printf '%s\n' "$@" | sort -g | awk 'NR==1 {a=$1} {b=$1} END {printf "min %.3g max %.3g", a, b}'; }
bm=$(median "${t_raw[@]}")
log "raw cp: median $(fmt "$bm") s, $(spread "${t_raw[@]}"), copy du $dum MiB"
report() {  # report LABEL TIMES...  (BASE: name of the baseline array, default t_raw)
  local label=$1; shift
  local -n base=${BASE:-t_raw}
  local m b r
  m=$(median "$@"); b=$(median "${base[@]}"); r=$(calc "$m / $b")
  result 3 "cp --sparse=auto of 8 GiB image with 64 MiB data, $label ($(spread "$@") s)" "$(fmt "$m")" s \
    "same cp of the raw image$([ "${BASE:-t_raw}" = t_rawp ] && echo ", pinned") $(fmt "$b") s ($(spread "${base[@]}") s)" \
    "$(fmt "$r")" "<= 1.5" "$(verdict "$r" le 1.5)"
}
report "C libfuse3 passthrough (fuse-ceiling.c, direct_io, multithreaded)" "${t_c[@]}"
report "C libfuse3 passthrough (fuse-ceiling.c, direct_io, -s)" "${t_cs[@]}"
report "vmafs mount kept (warm)" "${t_warm[@]}"
report "vmafs fresh mount per copy" "${t_fresh[@]}"
BASE=t_rawp report "C fuse-ceiling -s, server and cp pinned to CPU $P" "${t_csp[@]}"
BASE=t_rawp report "vmafs mount kept (warm), server and cp pinned to CPU $P" "${t_warmp[@]}"
report "C fuse-ceiling -s, page cache (warm)" "${t_pc[@]}"
BASE=t_rawp report "C fuse-ceiling -s, page cache (warm), pinned to CPU $P" "${t_pcp[@]}"
report "vmafs --page-cache mount kept (warm)" "${t_wpc[@]}"

# --- per-request latency: N x lseek(SEEK_DATA), N x 4 KiB pread ---
N=${LAT_N:-100000}
for p in "raw:$RAW" "c:$MC/disk.raw" "c-s:$MCS/disk.raw" "vmafs-warm:$MW/$IMG" \
         "c-s-pinned:$MCP/disk.raw" "vmafs-warm-pinned:$MWP/$IMG"; do
  pin=(); [[ $p == *-pinned:* ]] && pin=("${PINNED[@]}")
  "${pin[@]}" "$LAT" "${p#*:}" 20000 >/dev/null   # warm-up
  read -r lseek_us read_us < <("${pin[@]}" "$LAT" "${p#*:}" "$N")
  echo "latency ${p%%:*}: lseek(SEEK_DATA) $lseek_us us/call, pread 4 KiB $read_us us/call (N=$N)"
done
umount_vma "$MW"; umount_vma "$MWP"; umount_vma "$MWPC"
