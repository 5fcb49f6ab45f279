#!/usr/bin/env bash
# Issue #16 (remote module): one object read to nowhere from a local S3 server (s3proxy,
# filesystem backend), three ways in the same run, interleaved and repeated: the AWS SDK's plain
# GET (baseline), vmafs's sequential stream (one streaming GET), and vmafs's positional reads of
# 1 MiB in order (1 MiB pieces, read-ahead, 4 parallel range requests).
# Environment: SIZE_MIB (default 1024), RUNS (default 3), BENCH_DIR, KEEP=1.
source "$(dirname "$0")/lib.sh"
bench_init remote
size_mib=${SIZE_MIB:-1024}
obj=$WORK/object-${size_mib}M.bin
if [ ! -f "$obj" ]; then
  log "writing a ${size_mib} MiB object (random bytes)"
  head -c $((size_mib << 20)) /dev/urandom > "$obj.tmp" && mv "$obj.tmp" "$obj"
fi
cp_file=$WORK/classpath.txt
(cd "$ROOT" && mvn -q -B -o test-compile dependency:build-classpath -pl remote -am -Dmdep.outputFile="$cp_file" \
  -Dmdep.includeScope=test) >&2
rm -rf "$WORK/scratch"; mkdir -p "$WORK/scratch"
java -XX:+UseSerialGC -cp "$ROOT/remote/target/test-classes:$ROOT/remote/target/classes:$(cat "$cp_file")" \
  vmafs.remote.RemoteBench "$obj" "$WORK/scratch" "$RUNS"
rm -rf "$WORK/scratch"
[ "${KEEP:-0}" = 1 ] || rm -f "$obj"
