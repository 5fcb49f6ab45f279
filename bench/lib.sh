# Shared helpers for the vmafs benchmarks. Source it; do not run it.
# Environment: BENCH_DIR (scratch, default /var/tmp/vmafs-bench), RUNS (repetitions, default 3),
# KEEP=1 keeps the generated archives between runs (for iterating on one script).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VMAFS="$ROOT/vmafs"
JAR="$ROOT/cli/target/vmafs.jar"
BENCH_DIR=${BENCH_DIR:-/var/tmp/vmafs-bench}
RUNS=${RUNS:-3}
RESULTS=${RESULTS:-$BENCH_DIR/results.tsv}
PY=/usr/bin/python3
mkdir -p "$BENCH_DIR"

[ "$(id -u)" = 0 ] || { echo "benchmarks need root (drop_caches, bdi read_ahead_kb, FUSE)" >&2; exit 2; }
for t in fio zstd lzop pigz gzip /usr/bin/time fusermount3 bc; do
  command -v "$t" >/dev/null || { echo "missing tool: $t (apt-get install fio zstd lzop pigz time fuse3 bc)" >&2; exit 2; }
done

log() { echo "# $*" >&2; }

# Builds the whole reactor (never -pl without -am: ~/.m2 is shared) and the test classes.
build() {
  if [ ! -f "$JAR" ] || [ ! -d "$ROOT/tests/target/test-classes/vmafs/e2e" ] || \
     [ -n "$(find "$ROOT"/{image,nbd,vma-index,remote,archive-sources,service,fuse-mount,cli,tests}/src -newer "$JAR" -print -quit)" ]; then
    log "building (mvn -o package, test-compile)"
    (cd "$ROOT" && mvn -q -B -o package -DskipTests && mvn -q -B -o test-compile) >&2
  fi
}

# bench_init NAME: scratch dir $WORK=$BENCH_DIR/NAME, the build, and the machine in the log.
bench_init() {
  WORK=$BENCH_DIR/$1
  mkdir -p "$WORK"
  build
  log "$(machine)"
}

now() { date +%s.%N; }
# secs CMD...: wall seconds of CMD (stdout/stderr discarded unless QUIET=0)
secs() {
  local t0 t1
  t0=$(now)
  if [ "${QUIET:-1}" = 1 ]; then "$@" >/dev/null 2>&1; else "$@"; fi
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
fmt() { printf '%.3g' "$1"; }
calc() { echo "$*" | bc -l; }

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }
warm() { cat "$@" > /dev/null; }

# result ISSUE METRIC VALUE UNIT BASELINE RATIO TARGET VERDICT
# Prints "metric: value (baseline: …, ratio: …, target: …, PASS/MISS)" and appends to $RESULTS.
result() {
  local issue=$1 metric=$2 value=$3 unit=$4 base=$5 ratio=$6 target=$7 verdict=$8
  printf '%s: %s %s (baseline: %s, ratio: %s, target: %s, %s)\n' "$metric" "$value" "$unit" "$base" "$ratio" "$target" "$verdict"
  printf '%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n' "$issue" "$metric" "$value" "$unit" "$base" "$ratio" "$target" "$verdict" "$(hostname)" >> "$RESULTS"
}
# verdict VALUE OP LIMIT → PASS/MISS (OP: le or ge)
verdict() { if [ "$(echo "$1 ${2/le/<=} $3" | sed 's/ ge / >= /' | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }

# dd_mbs FILE [dd args…]: MB/s (10^6) that dd reports, reading FILE to /dev/null
dd_mbs() {
  local f=$1; shift
  LC_ALL=C dd if="$f" of=/dev/null bs=1M "$@" 2>&1 | awk '/copied/ {for (i=1;i<=NF;i++) if ($i=="copied,") s=$(i+1); b=$1} END {printf "%.0f\n", b/s/1e6}'
}

# fio_iops FILE JOBS SECONDS [extra fio args]: 4 KiB random-read IOPS
fio_iops() {
  local f=$1 jobs=$2 t=$3; shift 3
  fio --name=r --filename="$f" --rw=randread --bs=4k --ioengine=psync --numjobs="$jobs" \
      --time_based --runtime="$t" --invalidate=0 --group_reporting --output-format=json "$@" 2>/dev/null |
    $PY -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))'
}

# Mounts (background server), waits until readable. mount_vma ARCHIVE MNT [vmafs mount options]
MOUNTS=()
EXTRA_CLEAN=()
mount_vma() {
  local a=$1 m=$2; shift 2
  mkdir -p "$m"
  "$VMAFS" mount "$@" "$a" "$m" >/dev/null
  MOUNTS+=("$m")
}
umount_vma() {
  local m=$1 pid
  pid=$(server_pid "$m")
  "$VMAFS" umount "$m" >/dev/null 2>&1 || fusermount3 -u -z "$m" 2>/dev/null || true
  # wait for the server to exit so the next mount starts clean
  for _ in $(seq 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
}
# PID of the server process serving mount point $1
server_pid() { pgrep -f -- "--daemon-child.* $(readlink -f "$1")\$" | head -1 || true; }
# Sets bdi read_ahead_kb of a FUSE mount to 1024 (vmafs does it itself; report what is set)
read_ahead_kb() { cat "/sys/class/bdi/$(mountpoint -d "$1")/read_ahead_kb" 2>/dev/null || echo "?"; }

cleanup() {
  local m
  for m in "${MOUNTS[@]:-}"; do [ -n "$m" ] && mountpoint -q "$m" 2>/dev/null && umount_vma "$m"; done
  for m in "${EXTRA_CLEAN[@]:-}"; do [ -n "$m" ] && rm -rf "$m"; done
  if [ "${KEEP:-0}" != 1 ] && [ -n "${WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# gen_disk OUT.raw VIRTUAL_MIB DATA_MIB [SEED]: semi-compressible sparse raw image
gen_disk() { $PY "$ROOT/bench/gendisk.py" "$@"; }

machine() {
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
  echo "kernel: $(uname -r); jdk: $(java -version 2>&1 | head -1); libfuse: $(dpkg-query -W -f='${Version}' libfuse3-3 2>/dev/null || echo ?)"
  echo "bench dir: $BENCH_DIR on $(df --output=source,fstype "$BENCH_DIR" | tail -1)"
}

# Datasets, made under $WORK once per script (kept with KEEP=1).
# disk_dataset NAME VIRTUAL_MIB DATA_MIB: $WORK/NAME.raw (source image) and $WORK/NAME.vma
disk_dataset() {
  local n=$1
  if [ ! -f "$WORK/$n.vma" ]; then
    log "generating $n: ${2} MiB virtual, ~${3} MiB data"
    gen_disk "$WORK/$n.raw" "$2" "$3"
    "$VMAFS" create "$WORK/$n.vma" "drive-scsi0=$WORK/$n.raw" >/dev/null
  fi
}
# synthetic_dataset NAME VIRTUAL_BYTES DATA_BYTES: $WORK/NAME.vma from SyntheticArchive
synthetic_dataset() {
  local n=$1
  if [ ! -f "$WORK/$n.vma" ]; then
    log "generating $n: $(($2 >> 30)) GiB virtual, $(($3 >> 20)) MiB data (SyntheticArchive)"
    java -cp "$ROOT/tests/target/test-classes:$JAR" vmafs.e2e.SyntheticArchive "$WORK/$n.vma" "$2" "$3" 1 >&2
  fi
}
# Wall time of the JVM doing nothing useful (start-up + picocli + exit): 'vmafs --version'.
jvm_floor() {
  local t=() i
  for i in $(seq "$RUNS"); do t+=("$(secs "$VMAFS" --version)"); done
  median "${t[@]}"
}
