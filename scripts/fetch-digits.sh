#!/usr/bin/env bash
# The handwritten digits (1,797 8x8 images, scikit-learn's copy of the UCI set) for the
# `tetris axtrain` demo: downloads scikit-learn's wheel with pip (no install, no
# dependencies) and extracts sklearn/datasets/data/digits.csv.gz (64 pixel columns 0..16,
# then the label). Usage: scripts/fetch-digits.sh [OUT] (default data/digits.csv.gz).
set -euo pipefail
out="${1:-data/digits.csv.gz}"
if [ -e "$out" ]; then
  echo "$out exists; not downloading again"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" scikit-learn
wheel="$(ls "$tmp"/scikit_learn-*.whl | head -n1)"
python3 - "$wheel" "$tmp/digits.csv.gz" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    with open(sys.argv[2], "wb") as f:
        f.write(z.read("sklearn/datasets/data/digits.csv.gz"))
PY
mkdir -p "$(dirname "$out")"
mv "$tmp/digits.csv.gz" "$out"
echo "wrote $out ($(basename "$wheel"))"
