#!/usr/bin/env bash
# Issue #16 (remote module): one object read to nowhere from a local S3 server (s3proxy,
# filesystem backend), three ways in the same run, interleaved and repeated: the AWS SDK's plain
# GET (baseline), vmafs's sequential stream (one streaming GET), and vmafs's positional reads of
# 1 MiB in order (1 MiB pieces, read-ahead, 4 parallel range requests).
#
# Part 2 (issue #16, the commands): a 2 GiB-data uncompressed archive mounted from S3, first with
# no saved index (the pass streams the object) against the same archive mounted from a local file
# plus one SDK GET of the object to /dev/null; then remounted from S3 with the index cached (against
# the local remount, with the startup steps of each as mount -v logs them); and
# cold random 4 KiB reads of a seekable .vma.zst in S3: requests and bytes per read, as the
# server's -v log shows them.
# Environment: SIZE_MIB (default 1024), RUNS (default 3), DATA_MIB (default 2048), READS (random
# reads, default 5), PARTS ("objects mounts" by default), BENCH_DIR, KEEP=1.
source "$(dirname "$0")/lib.sh"
bench_init remote
parts=${PARTS:-objects mounts}
size_mib=${SIZE_MIB:-1024}
obj=$WORK/object-${size_mib}M.bin
if [[ " $parts " == *" objects "* ]] && [ ! -f "$obj" ]; then
  log "writing a ${size_mib} MiB object (random bytes)"
  head -c $((size_mib << 20)) /dev/urandom > "$obj.tmp" && mv "$obj.tmp" "$obj"
fi
cp_file=$WORK/classpath.txt
(cd "$ROOT" && mvn -q -B -o test-compile dependency:build-classpath -pl remote -am -Dmdep.outputFile="$cp_file" \
  -Dmdep.includeScope=test) >&2
CP="$ROOT/remote/target/test-classes:$ROOT/remote/target/classes:$(cat "$cp_file")"
if [[ " $parts " == *" objects "* ]]; then
  rm -rf "$WORK/scratch"; mkdir -p "$WORK/scratch"
  java -XX:+UseSerialGC -cp "$CP" vmafs.remote.RemoteBench "$obj" "$WORK/scratch" "$RUNS"
  rm -rf "$WORK/scratch"
  [ "${KEEP:-0}" = 1 ] || rm -f "$obj"
fi
[[ " $parts " == *" mounts "* ]] || exit 0

data_mib=${DATA_MIB:-2048}
disk_dataset big $((data_mib + data_mib / 10)) "$data_mib"
if [ ! -f "$WORK/big-seekable.vma.zst" ]; then
  log "converting to a seekable .vma.zst"
  "$VMAFS" convert "$WORK/big.vma" --seekable="$WORK/big-seekable.vma.zst" >/dev/null
fi
rm -rf "$WORK/s3"; mkdir -p "$WORK/s3"
fifo=$WORK/s3.stdin; rm -f "$fifo"; mkfifo "$fifo"
java -XX:+UseSerialGC -cp "$CP" vmafs.remote.testing.S3ServerMain "$WORK/s3" "bench/big.vma=$WORK/big.vma" \
  "bench/big-seekable.vma.zst=$WORK/big-seekable.vma.zst" <"$fifo" >"$WORK/s3.endpoint" 2>"$WORK/s3.log" &
s3pid=$!
exec 9>"$fifo" # the server serves until this closes
EXTRA_CLEAN+=("$WORK/s3")
for _ in $(seq 600); do [ -s "$WORK/s3.endpoint" ] && break; sleep 0.2; done
endpoint=$(head -1 "$WORK/s3.endpoint")
[ -n "$endpoint" ] || { cat "$WORK/s3.log" >&2; exit 1; }
log "s3proxy at $endpoint"
export AWS_ACCESS_KEY_ID=vmafs-test-access AWS_SECRET_ACCESS_KEY=vmafs-test-secret AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
export XDG_CACHE_HOME=$WORK/xdg-cache; mkdir -p "$XDG_CACHE_HOME"; chmod 700 "$XDG_CACHE_HOME"
mnt=$WORK/mnt; mkdir -p "$mnt"
size=$(stat -c %s "$WORK/big.vma")
local_t=(); get_t=(); s3_t=(); re_t=(); local_re_t=()
for r in $(seq "$RUNS"); do
  # Local first mount: no saved index (beside the archive or in the cache), --wait for the pass.
  rm -f "$WORK"/big.vma.vmafs-index* ; rm -rf "$XDG_CACHE_HOME/vmafs"
  drop_caches
  local_t+=("$(secs "$VMAFS" mount --wait "$WORK/big.vma" "$mnt")"); umount_vma "$mnt"
  # Local remount with the index saved by that mount: the remount's baseline.
  local_re_t+=("$(secs "$VMAFS" mount "$WORK/big.vma" "$mnt")"); umount_vma "$mnt"
  drop_caches
  get_t+=("$(java -XX:+UseSerialGC -cp "$CP" vmafs.remote.RemoteBench get "$endpoint" bench big.vma | cut -d' ' -f1)")
  rm -rf "$XDG_CACHE_HOME/vmafs"
  drop_caches
  s3_t+=("$(secs "$VMAFS" mount --wait --endpoint-url "$endpoint" s3://bench/big.vma "$mnt")"); umount_vma "$mnt"
  re_t+=("$(secs "$VMAFS" mount --endpoint-url "$endpoint" s3://bench/big.vma "$mnt")"); umount_vma "$mnt"
  log "run $r: local $(fmt "${local_t[-1]}") s, SDK GET $(fmt "${get_t[-1]}") s, S3 first mount $(fmt "${s3_t[-1]}") s, S3 remount $(fmt "${re_t[-1]}") s, local remount $(fmt "${local_re_t[-1]}") s"
done
l=$(median "${local_t[@]}"); g=$(median "${get_t[@]}"); f=$(median "${s3_t[@]}"); m=$(median "${re_t[@]}")
lm=$(median "${local_re_t[@]}")
base=$(calc "$l + $g"); ratio=$(calc "$f / $base")
result 16 "first mount from S3 of $((size >> 20)) MiB uncompressed (--wait)" "$(fmt "$f")" s \
  "local mount $(fmt "$l") s + SDK GET $(fmt "$g") s" "$(fmt "$ratio")" "<= 1.5" "$(verdict "$ratio" le 1.5)"
result 16 "remount from S3, index cached" "$(fmt "$m")" s "local remount $(fmt "$lm") s" \
  "$(fmt "$(calc "$m / $lm")")" "<= 1.5 s" "$(verdict "$m" le 1.5)"
# Where a remount's time goes: the server's startup steps (mount -v), ms after its JVM started,
# one S3 remount and one local remount.
for what in "s3 --endpoint-url $endpoint s3://bench/big.vma" "local $WORK/big.vma"; do
  # shellcheck disable=SC2086 # the words of $what are the arguments
  set -- $what
  kind=$1; shift
  "$VMAFS" mount -v "$@" "$mnt" 2>"$WORK/startup.err" >/dev/null || true
  log "remount startup, $kind:$(sed -n -e 's/^.*startup: \(.*\) after \([0-9]*\) ms$/ \1 \2/p' \
    -e 's/^.*\(S3 client for\) .* built in \([0-9]*\) ms$/ S3 client built in \2/p' "$WORK/startup.err" | paste -sd,)"
  umount_vma "$mnt"
done

# Cold random 4 KiB reads of the seekable archive: a fresh server per read (empty caches); the
# requests after the mount reported ready are what the read cost.
log_dir=$XDG_CACHE_HOME/vmafs/log
mnt=$WORK/mnt-random; mkdir -p "$mnt" # a mount point of its own: the last remount may still be going away
"$VMAFS" mount --wait --endpoint-url "$endpoint" s3://bench/big-seekable.vma.zst "$mnt" >/dev/null; umount_vma "$mnt"
img_size=$(( (data_mib + data_mib / 10) << 20 ))
reqs=(); bytes=()
for i in $(seq "${READS:-5}"); do
  rm -rf "$log_dir"
  "$VMAFS" mount -v --endpoint-url "$endpoint" s3://bench/big-seekable.vma.zst "$mnt" >/dev/null 2>&1
  lf=$(ls "$log_dir"/*.log | head -1)
  before=$(grep -c ' GET s3://' "$lf" || true)
  off=$(( (RANDOM * 32768 + RANDOM) % (img_size / 4096) ))
  dd if="$mnt/disk-drive-scsi0.raw" of=/dev/null bs=4096 skip="$off" count=1 iflag=direct 2>/dev/null
  sleep 0.3
  reqs+=("$(( $(grep -c ' GET s3://' "$lf") - before ))")
  bytes+=("$(grep ' GET s3://' "$lf" | tail -n +$((before + 1)) | sed -n 's/.*, \([0-9]*\) bytes.*/\1/p' | paste -sd+ | sed 's/^$/0/' | bc)")
  umount_vma "$mnt"
done
result 16 "cold random 4 KiB read, seekable .vma.zst in S3: requests per read (of ${READS:-5})" \
  "$(median "${reqs[@]}")" "" "-" "-" "1 range of at most one frame" "-"
result 16 "cold random 4 KiB read, seekable .vma.zst in S3: bytes per read" "$(median "${bytes[@]}")" B \
  "piece size 1 MiB" "-" "at most one frame (1 MiB)" "-"
exec 9>&-
wait "$s3pid" || true
