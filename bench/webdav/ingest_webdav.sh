#!/usr/bin/env bash
# Raw ingest from a WebDAV server (issue 13): `ingest-raws -t direct -j 4` of simulated
# LSSTComCam raws (real-sized headers, 1x1-pixel amplifiers: `majordome sim --tiny`) served by
# the local nginx test server over TLS (scripts/webdav-test-server), side by side with the same
# ingest from local disk. Prints files/s and the bytes fetched per file (from the server's
# access log), then again with an _index.json per folder on the server. Targets: >= 500 files/s
# and < 64 KB fetched per file.
#   usage: ingest_webdav.sh BIN_DIR WORK_DIR [FILES]   (default $BENCH_WEBDAV_FILES or 2000;
#          rounded up to whole exposures of 9 detectors). Simulated raws in WORK_DIR/sim are reused.
set -euo pipefail
bin=$1
work=$(realpath -m "$2")
files_wanted=${3:-${BENCH_WEBDAV_FILES:-2000}}
here=$(cd "$(dirname "$0")/../.." && pwd)
server="$here/scripts/webdav-test-server"
exposures=$(( (files_wanted + 8) / 9 ))
mkdir -p "$work"
now() { date +%s.%N; }

if [ ! -d "$work/sim/raw" ]; then
  "$bin/majordome" sim --camera LSSTComCam --out "$work/sim" --exposures "$exposures" --tiny -j 2 > "$work/sim.log" 2>&1
fi
files=$(find "$work/sim/raw" -name '*.fits' | wc -l)
bytes=$(du -sb "$work/sim/raw" | cut -f1)
url=$("$server" start "$work/webdav")
trap '"$server" stop "$work/webdav"' EXIT
rm -rf "$work/webdav/root/raw"
cp -r "$work/sim/raw" "$work/webdav/root/raw"
export LSST_HTTP_AUTH_BEARER_TOKEN="$work/webdav/token" LSST_HTTP_CACERT_BUNDLE="$work/webdav/ca.pem"
printf '%d raw files, %.1f KB each on average; server %s\n' "$files" "$(echo "$bytes / $files / 1024" | bc -l)" "$url"

for source in local webdav webdav+index; do
  repo="$work/repo-${source/+/-}"
  rm -rf "$repo"
  "$bin/butler" create "$repo"
  "$bin/butler" register-instrument "$repo" lsst.obs.lsst.LsstComCam > /dev/null
  raws="$work/sim/raw"
  [ "$source" = webdav ] && raws="${url}raw"
  if [ "$source" = webdav+index ]; then  # one _index.json per folder (bench/ingest/write_index.py)
    python3 "$here/bench/ingest/write_index.py" "$work/webdav/root/raw" > /dev/null
    raws="${url}raw"
  fi
  : > "$work/webdav/access.log"
  start=$(now)
  "$bin/butler" ingest-raws --no-progress -j 4 -t direct "$repo" "$raws" > "$work/ingest-$source.log"
  t=$(echo "$(now) - $start" | bc)
  fetched=$(awk '$6 == "\"GET" {s += $10} END {print s + 0}' "$work/webdav/access.log")
  requests=$(wc -l < "$work/webdav/access.log")
  printf 'ingest-raws -j 4 -t direct from %-6s %6d files in %6.2f s: %6.0f files/s; %6.1f KB fetched per file, %d requests\n' \
    "$source" "$files" "$t" "$(echo "$files / $t" | bc -l)" "$(echo "$fetched / $files / 1024" | bc -l)" "$requests"
done
"$bin/butler" query-dimension-records "$work/repo-local" exposure > "$work/exposures-local.txt"
"$bin/butler" query-dimension-records "$work/repo-webdav" exposure > "$work/exposures-webdav.txt"
cmp -s "$work/exposures-local.txt" "$work/exposures-webdav.txt" && echo "exposure records: identical" ||
  echo "exposure records: DIFFER (diff $work/exposures-local.txt $work/exposures-webdav.txt)"
