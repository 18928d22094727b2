#!/usr/bin/env bash
# Raw ingest benchmark (issue 5): simulated LSSTComCam exposures x 9 detectors with real-sized
# headers and 1x1-pixel amplifiers (`majordome sim --tiny`), ingested with -j 2 and transfer
# direct and symlink into fresh SQLite repositories; then define-visits. Prints files/s.
# Target: at least 2,000 raw files per second on 2 cores.
#   usage: ingest_bench.sh BIN_DIR WORK_DIR [EXPOSURES]   (default $BENCH_INGEST_EXPOSURES or 2000;
#          the issue's full size is 16000)
set -euo pipefail
bin=$1
work=$2
exposures=${3:-${BENCH_INGEST_EXPOSURES:-2000}}
majordome="$bin/majordome"
mkdir -p "$work"
butler() { "$bin/butler" "$@"; }

now() { date +%s.%N; }
start=$(now)
"$majordome" sim --camera LSSTComCam --out "$work/sim" --exposures "$exposures" --tiny -j 2 > "$work/sim.log"
files=$(find "$work/sim/raw" -name '*.fits' | wc -l)
printf 'simulated %d exposures, %d raw files in %.1f s\n' "$exposures" "$files" "$(echo "$(now) - $start" | bc)"

for transfer in direct symlink; do
  repo="$work/repo-$transfer"
  butler create "$repo"
  butler register-instrument "$repo" lsst.obs.lsst.LsstComCam > /dev/null
  sync
  start=$(now)
  butler ingest-raws --no-progress -j 2 -t "$transfer" "$repo" "$work/sim/raw" > "$work/ingest-$transfer.log"
  t=$(echo "$(now) - $start" | bc)
  printf 'ingest-raws -j 2 -t %-8s %7d files in %6.1f s: %6.0f files/s\n' "$transfer" "$files" "$t" \
    "$(echo "$files / $t" | bc -l)"
done

repo="$work/repo-direct"
start=$(now)
butler ingest-raws --no-progress -j 2 -t direct "$repo" "$work/sim/raw" > "$work/reingest.log"
t=$(echo "$(now) - $start" | bc)
printf 're-ingest (no-op)            %7d files in %6.1f s: %6.0f files/s\n' "$files" "$t" "$(echo "$files / $t" | bc -l)"

start=$(now)
butler define-visits --no-progress "$repo" LSSTComCam > "$work/visits.log"
t=$(echo "$(now) - $start" | bc)
printf 'define-visits: %s visits x 9 detectors in %.1f s\n' "$exposures" "$t"
