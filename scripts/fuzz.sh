#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for FUZZ_SECONDS (default 30) from
# its seed corpus in tests/fuzz/corpus/<target>/, FUZZ_JOBS (default 2) at a time. A crash, leak or
# sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
parallel=${FUZZ_JOBS:-2}
# Every tests/fuzz/<target>_fuzz.cpp is a target (tests/fuzz/CMakeLists.txt globs the same files; the
# fuzz build preset builds them all, and only the libraries they link).
targets=$(cd tests/fuzz && ls ./*_fuzz.cpp | sed -e 's|^\./||' -e 's|\.cpp$||')
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fuzz_one() {
  local target=$1 corpus="$out/$1.corpus"
  mkdir "$corpus"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  local rc=0
  ./build/fuzz/tests/fuzz/"$target" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
    -print_final_stats=1 "$corpus" >"$out/$target.log" 2>&1 || rc=$?
  echo "$rc" >"$out/$target.rc"
}
for target in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  echo "fuzz: $target for ${seconds}s"
  fuzz_one "$target" &
done
wait

passed=0
failed=0
for target in $targets; do
  if [ "$(cat "$out/$target.rc")" = 0 ]; then
    echo "fuzz: $target passed"; tail -n 4 "$out/$target.log"
    passed=$((passed + 1))
  else
    echo "fuzz: $target FAILED"; tail -n 60 "$out/$target.log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
