#!/usr/bin/env bash
# WIFCore decides; it never reads the network, the disk, the environment or the wall clock (STYLE.md).
# Fails when a WIFCore source imports a module outside the allow-list or calls an I/O or clock API.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed='^(Crypto|CryptoExtras|ExtrasBase64|Yams|FoundationEssentials)$'
status=0

while IFS=: read -r file line module; do
  if ! [[ "$module" =~ $allowed ]]; then
    echo "$file:$line: WIFCore may not import $module (allowed: Crypto, CryptoExtras, ExtrasBase64, Yams, FoundationEssentials)"
    status=1
  fi
done < <(grep -rnoE '^\s*(public |internal |package |@_exported )?import( (struct|class|enum|protocol|func|var|let))? +[A-Za-z_][A-Za-z0-9_]*' Sources/WIFCore \
  | sed -E 's/^([^:]+):([0-9]+):.*import( (struct|class|enum|protocol|func|var|let))? +([A-Za-z_][A-Za-z0-9_]*).*/\1:\2:\5/')

forbidden='FileManager|FileHandle|ProcessInfo|URLSession|Date\(\)|Date\.now|ContinuousClock|SuspendingClock|getenv|fopen|open\(|Thread\.sleep|Task\.sleep'
if grep -rnE "$forbidden" Sources/WIFCore; then
  echo "WIFCore must not touch files, the environment, the network or the clock (time is passed in as 'now')"
  status=1
fi

[ $status -eq 0 ] && echo "WIFCore purity: ok ($(ls -R Sources/WIFCore | grep -c '\.swift$') files)"
exit $status
