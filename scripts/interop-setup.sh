#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment the interop tests run their clients in.
#   bash scripts/interop-setup.sh [VENV_DIR]     (default: .build-interop/venv in the repository root)
# Idempotent: the venv keeps the sha256 of Tests/Interop/requirements.txt it was built from, and an
# unchanged file means there is nothing to do.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.build-interop/venv}"
requirements="$root/Tests/Interop/requirements.txt"
stamp="$venv/.wif-requirements.sha256"

if command -v sha256sum >/dev/null; then
  digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
else # macOS
  digest="$(shasum -a 256 "$requirements" | cut -d' ' -f1)"
fi
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
  echo "interop venv up to date: $venv"
  exit 0
fi

action="updated"
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  action="created"
fi
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" </dev/null
echo "$digest" >"$stamp"
echo "interop venv $action: $venv ($(grep -cE '^[A-Za-z]' "$requirements") pinned requirements)"
