#!/usr/bin/env bash
# Issue 12 (instant mount): a first mount returns before the index pass ends. For a 2 GiB-data
# vzdump .vma.zst and the 1 TiB-virtual .vma.lzo of bench/scale.sh: command -> files readable,
# command -> first 4 KiB of the disk read, and the whole pass with reads going on, each against
# 'vmafs mount --wait' (today's behaviour) measured in the same run, interleaved.
source "$(dirname "$0")/lib.sh"
bench_init instant
disk_dataset disk2g 2200 2048
synthetic_dataset big $((1 << 40)) $((256 << 20))
Z=$WORK/disk2g.vma.zst; L=$WORK/big.vma.lzo; M=$WORK/mnt; mkdir -p "$M"
[ -f "$Z" ] || { log "zstd --threads=2"; zstd -q --threads=2 < "$WORK/disk2g.vma" > "$Z"; }
[ -f "$L" ] || { log "lzop"; lzop < "$WORK/big.vma" > "$L"; }
IMG=$M/disk-drive-scsi0.raw

# The pass's state as 'vmafs status' reads it (the root's user.vmafs.status), without a JVM start.
state() {
  $PY -c 'import json, os, sys
try: print(json.loads(os.getxattr(sys.argv[1], "user.vmafs.status"))["state"])
except OSError: print("none")' "$M"
}

# Returns when the pass has left "indexing". One process polls every 50 ms: a process started per
# look (a Python start is ~40 ms of CPU) took a fifth of a core from the pass it was timing, and
# the --wait baseline paid nothing of the kind.
wait_pass() {
  $PY -c 'import json, os, sys, time
while True:
  try: s = json.loads(os.getxattr(sys.argv[1], "user.vmafs.status"))["state"]
  except OSError: s = "none"
  if s != "indexing": break
  time.sleep(0.05)' "$M"
}

# instant ARCHIVE: "readable first4k pass" seconds from the command, reads going on meanwhile
instant() {
  local t0 tr tf tp
  rm -f "$1".vmafs-index "$1".spill
  t0=$(now)
  # -v: the server prints how long after the launcher started each step of its start was done.
  "$VMAFS" mount -v "$1" "$M" >/dev/null 2>"$WORK/mount.err"
  stat "$IMG" >/dev/null; tr=$(now)
  head -c 4096 "$IMG" >/dev/null; tf=$(now)
  MOUNTS+=("$M")
  # Reads while the pass runs: the disk's first 512 MiB, as a booting guest would, in 1 MiB reads.
  dd if="$IMG" of=/dev/null bs=1M count=512 status=none &
  wait_pass
  tp=$(now)
  wait
  [ "$(state)" = complete ] || { log "pass did not complete: $(state)"; exit 1; }
  umount_vma "$M"
  startup_steps >&2
  echo "$(calc "$tr - $t0") $(calc "$tf - $t0") $(calc "$tp - $t0")"
}
# The steps of the last instant() run's start, from what -v printed: "step=ms …".
startup_steps() {
  printf '# start of the server, ms after the launcher started:'
  sed -n 's/^vmafs: startup: \(.*\) after \([0-9]*\) ms$/ \1=\2/p' "$WORK/mount.err" | tr -d '\n'
  echo
  rm -f "$WORK/mount.err"
}
# A JVM start and exit through the launcher, the floor of any command: "vmafs --version".
jvm_start() {
  local t0
  t0=$(now); "$VMAFS" --version >/dev/null; calc "$(now) - $t0"
}
# waited ARCHIVE: "readable first4k" seconds from the command with --wait (readable = pass done)
waited() {
  local t0 tr tf
  rm -f "$1".vmafs-index "$1".spill
  t0=$(now)
  "$VMAFS" mount --wait "$1" "$M" >/dev/null
  stat "$IMG" >/dev/null; tr=$(now)
  head -c 4096 "$IMG" >/dev/null; tf=$(now)
  MOUNTS+=("$M")
  umount_vma "$M"
  echo "$(calc "$tr - $t0") $(calc "$tf - $t0")"
}

j=(); for i in $(seq "$RUNS"); do j+=("$(jvm_start)"); done
log "vmafs --version (launcher + JVM start + exit): median $(fmt "$(median "${j[@]}")") s"

for a in "$Z" "$L"; do
  warm "$a"
  r=(); f=(); p=(); wr=(); wf=()
  for i in $(seq "$RUNS"); do
    read -r x y z < <(instant "$a"); r+=("$x"); f+=("$y"); p+=("$z")
    read -r x y < <(waited "$a"); wr+=("$x"); wf+=("$y")
  done
  name="$(basename "$a") ($(($(stat -c %s "$a") >> 20)) MiB)"
  rm_=$(median "${r[@]}"); fm=$(median "${f[@]}"); pm=$(median "${p[@]}"); wm=$(median "${wr[@]}"); wfm=$(median "${wf[@]}")
  result 12 "$name: command -> files readable" "$(fmt "$rm_")" s "--wait $(fmt "$wm") s" "$(fmt "$(calc "$rm_ / $wm")")" "<= 1.5 s" "$(verdict "$rm_" le 1.5)"
  result 12 "$name: command -> first 4 KiB read" "$(fmt "$fm")" s "--wait $(fmt "$wfm") s" "$(fmt "$(calc "$fm / $wfm")")" "<= 2 s" "$(verdict "$fm" le 2)"
  ratio=$(calc "$pm / $wm")
  result 12 "$name: command -> pass complete, 512 MiB read meanwhile" "$(fmt "$pm")" s "--wait pass $(fmt "$wm") s" "$(fmt "$ratio")" "<= 1.1" "$(verdict "$ratio" le 1.1)"
done
