#!/usr/bin/env bash
# The long fuzzing run (opt-in: not part of `mvn verify` or CI). Fuzzes every fuzz target in turn
# for SECONDS each (default 600), JOBS at a time (default 1; the machine has 2 cores), each in its
# own JVM through the fuzz-bounded surefire execution, and prints the executions and findings per
# target and in total. Needs no root.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]      e.g. JOBS=2 bench/fuzz.sh 600
#   TARGET: a fuzz test class (VmaStreamFuzzTest); default: every *FuzzTest class
#
# The generated corpus of each target grows in MODULE/target/fuzz/.cifuzz-corpus/ and is reused
# by the next run. A finding stops its target; its input is saved as MODULE/target/fuzz/crash-*
# (the log says which target): fix the code, then move the input to the target's Inputs
# directory under src/test/resources so that every build replays it (docs/fuzzing.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-600}
shift || true
JOBS=${JOBS:-1}
LOGS=${FUZZ_LOGS:-/var/tmp/vmafs-fuzz}
mkdir -p "$LOGS"

targets=()
if [ $# -gt 0 ]; then
  for c in "$@"; do
    f=$(cd "$ROOT" && find image vma-index archive-sources -path '*/src/test/java/*' -name "$c.java" | head -1)
    [ -n "$f" ] || { echo "no fuzz target $c" >&2; exit 2; }
    targets+=("${f%%/*}:$c")
  done
else
  while read -r f; do
    targets+=("${f%%/*}:$(basename "$f" .java)")
  done < <(cd "$ROOT" && find image vma-index archive-sources -path '*/src/test/java/*' -name '*FuzzTest.java' | sort)
fi

echo "# building test classes" >&2
(cd "$ROOT" && mvn -q -B -o test-compile -pl image,vma-index,archive-sources -am) >&2

# fuzz MODULE:CLASS -> one result line in $LOGS/CLASS.result
fuzz() {
  local module=${1%%:*} class=${1#*:}
  local log=$LOGS/$class.log
  local before
  before=$(find "$ROOT/$module/target/fuzz" -maxdepth 1 -name 'crash-*' 2>/dev/null | wc -l)
  local rc=0
  # -Dtest also narrows the default (regression) execution to this class: it replays its seeds first.
  # Each job gets its own surefire temp dir: a finishing surefire deletes the shared one.
  (cd "$ROOT" && mvn -B -o test -pl image,vma-index,archive-sources -am -Dtest="$class" -DtempDir="surefire-$class" \
      -Dsurefire.failIfNoSpecifiedTests=false -Dvmafs.fuzz.target="$class" \
      -Dvmafs.fuzz.seconds="$SECONDS_PER_TARGET" -Dvmafs.fuzz.timeout=30 -Dvmafs.fuzz.heap=1g) \
      > "$log" 2>&1 || rc=$?
  local execs rate corpus after
  execs=$(grep -a -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  rate=$(grep -a -oE 'exec/s: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  corpus=$(grep -a -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]+' "$log" | tail -1 | cut -d' ' -f2 || true)
  after=$(find "$ROOT/$module/target/fuzz" -maxdepth 1 -name 'crash-*' 2>/dev/null | wc -l)
  local findings=$((after - before))
  if [ "$rc" != 0 ] && [ "$findings" = 0 ]; then
    findings="build failed (see $log)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$class" "${execs:-0}" "${rate:-?}" "${corpus:-?}" "$findings" \
      > "$LOGS/$class.result"
}

echo "# fuzzing ${#targets[@]} targets for ${SECONDS_PER_TARGET} s each, $JOBS at a time; logs in $LOGS" >&2
running=0
for t in "${targets[@]}"; do
  fuzz "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

total=0
printf '%-26s %12s %8s %10s  %s\n' target executions exec/s corpus findings
for t in "${targets[@]}"; do
  IFS=$'\t' read -r class execs rate corpus findings < "$LOGS/${t#*:}.result"
  printf '%-26s %12s %8s %10s  %s\n' "$class" "$execs" "$rate" "$corpus" "$findings"
  total=$((total + execs))
done
printf '%-26s %12s\n' total "$total"
