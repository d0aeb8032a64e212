#!/usr/bin/env bash
# Side by side: bench/run.sh on two builds in alternating rounds, then the median of each figure per build.
# Each build runs with its own server and its own seeder (the seeder writes its build's stored form).
# Usage: bench/compare.sh OLD_TREE NEW_TREE   (trees holding build/release; ROUNDS=3 by default; the
#        variables of bench/run.sh, ENTITIES, DURATION, ONLY, pass through)
# Prints every round's rows, then one table: figure | old median | new median | new/old.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1
NEW=$2
ROUNDS=${ROUNDS:-3}
OUT=$(mktemp -d /tmp/citytwin-compare.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

for round in $(seq "$ROUNDS"); do
  # Alternate which build goes first so that a drift of the machine favours neither.
  if [ $((round % 2)) -eq 1 ]; then order="old new"; else order="new old"; fi
  for which in $order; do
    if [ "$which" = old ]; then tree=$OLD; else tree=$NEW; fi
    echo "round $round: $which ($tree)"
    BIN=$tree/build/release/citytwin SEED=$tree/build/release/bench/citytwin_seed bash bench/run.sh \
      | tee "$OUT/$which.$round"
  done
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import re, statistics, sys, pathlib
out, rounds = pathlib.Path(sys.argv[1]), int(sys.argv[2])
def figures(path):
    rows = {}
    for line in path.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) != 3 or cells[0] in ('what', '---'):
            continue
        result = cells[1]
        named = dict(re.findall(r'(\w+)=([0-9.]+)', result))
        if not named:  # "0.61 s (server CPU 0.9 s)", "0.52 GiB", a count
            numbers = re.findall(r'[0-9]+(?:\.[0-9]+)?', result)
            named = {'value': numbers[0]} if numbers else {}
        cpu = re.search(r'server CPU ([0-9.]+) µs per value', result)
        if cpu:
            named['cpu_us_per_value'] = cpu.group(1)
        rows[cells[0]] = {k: float(v) for k, v in named.items() if k != 'requests'}
    return rows
runs = {w: [figures(out / f'{w}.{r}') for r in range(1, rounds + 1)] for w in ('old', 'new')}
print('\n| figure | old (median) | new (median) | new / old |\n| --- | --- | --- | --- |')
for what in runs['old'][0]:
    for key in runs['old'][0][what]:
        def median(which):
            values = [run[what][key] for run in runs[which] if key in run.get(what, {})]
            return statistics.median(values) if values else float('nan')
        old, new = median('old'), median('new')
        ratio = f'{new / old:.3f}' if old else '-'
        print(f'| {what}: {key} | {old:g} | {new:g} | {ratio} |')
PY
