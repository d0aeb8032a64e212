#!/usr/bin/env bash
# clang-tidy with the checks of .clang-tidy (any finding fails) on the C++ files a change touches:
# those that differ from the commit named in .ci/tidy-base (committed, staged, unstaged or untracked).
# That commit is the accepted baseline: files changed after it must pass. (Session 6 set it to the merge of
# its branches without a whole-tree run, so older files may still have findings: `--all` lists them.)
#   scripts/tidy.sh            the files changed since .ci/tidy-base
#   scripts/tidy.sh --all      every source file (slow: ~10 CPU-s a file)
#   scripts/tidy.sh FILE...    these files
# A changed header is checked through the source file of the same name (or, failing that, the first one
# that includes it), and findings in headers are shown only for the changed ones.
# Uses build/release/compile_commands.json (TIDY_BUILD_DIR to change; `cmake --preset release` makes it:
# the release preset is not a unity build, so the database names the real files). TIDY_JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${TIDY_BUILD_DIR:-build/release}
parallel=${TIDY_JOBS:-2}
tidy=${CLANG_TIDY:-clang-tidy-14}
[ -f "$build/compile_commands.json" ] || cmake --preset release >/dev/null

# The C++ files of the compile database, relative to the root.
database_files() {
  python3 - "$build/compile_commands.json" "$root" <<'PY'
import json, os, sys
root = sys.argv[2]
for entry in json.load(open(sys.argv[1])):
    path = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
    if path.startswith(root + "/") and "/build/" not in path[len(root):]:
        print(os.path.relpath(path, root))
PY
}

if [ "${1:-}" = "--all" ]; then
  changed=$(database_files; git ls-files 'src/*.hpp' 'tests/*.hpp' 'bench/*.hpp')
elif [ $# -gt 0 ]; then
  changed=$(printf '%s\n' "$@")
else
  base=$(tr -d '[:space:]' < .ci/tidy-base)
  if [ "$(git rev-parse --is-shallow-repository)" = true ]; then git fetch --quiet --unshallow || true; fi
  if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
    # Not in this history (a squash or rebase merged it): the commit that last set .ci/tidy-base.
    fallback=$(git log -1 --format=%H -- .ci/tidy-base)
    echo "tidy: .ci/tidy-base names $base, which this clone does not have; using $fallback, which set it" >&2
    base=$fallback
  fi
  changed=$( (git diff --name-only --diff-filter=d "$base" --; git ls-files --others --exclude-standard) | sort -u)
fi
changed=$(printf '%s\n' "$changed" | grep -E '^(src|tests|bench)/.*\.(cpp|hpp)$' || true)
if [ -z "$changed" ]; then
  echo "tidy: no C++ file changed since .ci/tidy-base"
  exit 0
fi

in_database=$(database_files | sort -u)
sources=()
headers=()
for file in $changed; do
  [ -f "$file" ] || continue
  case "$file" in
    *.cpp)
      if grep -qxF "$file" <<<"$in_database"; then sources+=("$file"); fi ;;
    *.hpp)
      headers+=("$file")
      twin="${file%.hpp}.cpp"
      if ! grep -qxF "$twin" <<<"$in_database"; then
        include="${file#src/}"
        twin=$(grep -lF "#include \"$include\"" $in_database 2>/dev/null | head -n 1 || true)
      fi
      if [ -n "$twin" ]; then sources+=("$twin"); fi ;;
  esac
done
if [ ${#sources[@]} -eq 0 ]; then
  echo "tidy: no changed C++ file is compiled (nothing to check)"
  exit 0
fi
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u)

# Findings in headers: only those of the changed headers (a regex of their paths), never third-party ones.
header_filter='^$'
if [ "${1:-}" = "--all" ]; then
  header_filter="^$root/(src|tests|bench)/"
elif [ ${#headers[@]} -gt 0 ]; then
  header_filter="^$root/($(printf '%s\n' "${headers[@]}" | sed 's/[.]/\\./g' | paste -sd '|'))\$"
fi

echo "tidy: ${#sources[@]} file(s) with $tidy, $parallel at a time"
# -Wno-unknown-warning-option: the database is g++'s, whose warning flags clang does not all know.
if ! printf '%s\n' "${sources[@]}" |
  xargs -P "$parallel" -I{} "$tidy" -p "$build" --quiet --header-filter="$header_filter" \
    --extra-arg=-Wno-unknown-warning-option {}; then
  echo "tidy: FAILED (fix the findings above, or say why with // NOLINT(check-name) on the line)" >&2
  exit 1
fi
echo "tidy: passed"
