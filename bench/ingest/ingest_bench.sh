#!/usr/bin/env bash
# Raw ingest benchmark (issues 5 and 12): simulated LSSTComCam exposures x 9 detectors with
# real-sized headers and 1x1-pixel amplifiers (`majordome sim --tiny`), ingested with -j 2
# into fresh SQLite repositories with transfer copy, direct (headers read from the files),
# direct with an _index.json metadata index per directory (write_index.py) and symlink; then
# a no-op re-ingest and define-visits. Prints files/s.
# Targets (issue 12, 2 cores): copy >= 2,000 files/s; direct with _index.json >= 10,000 files/s.
#   usage: ingest_bench.sh BIN_DIR WORK_DIR [EXPOSURES]   (default $BENCH_INGEST_EXPOSURES or 2000;
#          the issue's full size is 16000). Simulated raws already in WORK_DIR/sim are reused
#          (delete WORK_DIR to simulate again); BENCH_INGEST_MODES picks the runs
#          (default "copy direct direct+index symlink").
set -euo pipefail
bin=$1
work=$2
exposures=${3:-${BENCH_INGEST_EXPOSURES:-2000}}
modes=${BENCH_INGEST_MODES:-copy direct direct+index symlink}
here=$(cd "$(dirname "$0")" && pwd)
majordome="$bin/majordome"
mkdir -p "$work"
butler() { "$bin/butler" "$@"; }

now() { date +%s.%N; }
if [ ! -d "$work/sim/raw" ]; then
  start=$(now)
  "$majordome" sim --camera LSSTComCam --out "$work/sim" --exposures "$exposures" --tiny -j 2 > "$work/sim.log"
  printf 'simulated %d exposures in %.1f s\n' "$exposures" "$(echo "$(now) - $start" | bc)"
fi
files=$(find "$work/sim/raw" -name '*.fits' | wc -l)
if [ ! -d "$work/indexed" ]; then
  cp -r "$work/sim/raw" "$work/indexed.tmp"
  python3 "$here/write_index.py" "$work/indexed.tmp"
  mv "$work/indexed.tmp" "$work/indexed"
fi
printf '%d raw files (%s)\n' "$files" "$work/sim/raw"

for mode in $modes; do
  transfer=${mode%+index}
  raws="$work/sim/raw"
  [ "$mode" != "$transfer" ] && raws="$work/indexed"
  repo="$work/repo-$mode"
  rm -rf "$repo"
  butler create "$repo"
  butler register-instrument "$repo" lsst.obs.lsst.LsstComCam > /dev/null
  sync
  start=$(now)
  butler ingest-raws --no-progress -j 2 -t "$transfer" "$repo" "$raws" > "$work/ingest-$mode.log"
  t=$(echo "$(now) - $start" | bc)
  printf 'ingest-raws -j 2 -t %-14s %7d files in %6.2f s: %6.0f files/s\n' "$mode" "$files" "$t" \
    "$(echo "$files / $t" | bc -l)"
done

repo="$work/repo-${modes%% *}"
start=$(now)
butler ingest-raws --no-progress -j 2 -t "${modes%% *}" "$repo" "$work/sim/raw" > "$work/reingest.log"
t=$(echo "$(now) - $start" | bc)
printf 're-ingest (no-op)                   %7d files in %6.2f s: %6.0f files/s\n' "$files" "$t" "$(echo "$files / $t" | bc -l)"

start=$(now)
butler define-visits --no-progress "$repo" LSSTComCam > "$work/visits.log"
t=$(echo "$(now) - $start" | bc)
printf 'define-visits: %s visits x 9 detectors in %.1f s\n' "$exposures" "$t"
