#!/usr/bin/env bash
# Runs every benchmark (opt-in; not part of mvn verify / CI). Needs root, fio, zstd, lzop, pigz,
# fuse3, libnbd-bin and nbdkit (nbd.sh), about 8 GiB free under $BENCH_DIR (default /var/tmp/vmafs-bench) and 4 GiB in /dev/shm.
# Environment: RUNS (default 3), BENCH_DIR, KEEP=1 (keep generated archives).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BENCH_DIR=${BENCH_DIR:-/var/tmp/vmafs-bench}
export RESULTS=${RESULTS:-$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).tsv}
mkdir -p "$BENCH_DIR"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in core mount scale compressed restart partition nbd; do
  echo "## $s"
  "$here/$s.sh"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); results in $RESULTS"
