#!/usr/bin/env bash
# The table of real public networks in docs/knead.md: fetches six ONNX models that PyPI
# packages ship (RapidOCR's PP-OCR det/rec/cls, ddddocr's common/common_old/common_det) into a
# scratch folder outside the repository (never committed), then runs `tetris knead` at 8 and
# 16 bits, KS 8/16/32, sm and csd, batch norm folded and not, and prints a markdown table.
#
#   bash scripts/real_networks.sh [SCRATCH_DIR]      (default: /tmp/tetris-real-networks)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/tetris-real-networks}
mkdir -p "$dir"
if [ ! -d "$dir/x/rapidocr_onnxruntime" ]; then
    pip download --no-deps -d "$dir" rapidocr-onnxruntime==1.4.4 >&2
    (cd "$dir" && mkdir -p x && cd x && unzip -qo ../rapidocr_onnxruntime-1.4.4-py3-none-any.whl)
fi
if [ ! -d "$dir/x/ddddocr" ]; then
    pip download --no-deps -d "$dir" ddddocr==1.6.1 >&2
    (cd "$dir" && mkdir -p x && cd x && unzip -qo ../ddddocr-1.6.1-py3-none-any.whl)
fi
cargo build --release -q
bin=target/release/tetris
r=$dir/x/rapidocr_onnxruntime/models
d=$dir/x/ddddocr
models=(
    "PP-OCRv4 det:$r/ch_PP-OCRv4_det_infer.onnx"
    "PP-OCRv4 rec:$r/ch_PP-OCRv4_rec_infer.onnx"
    "PP-OCR mobile v2.0 cls:$r/ch_ppocr_mobile_v2.0_cls_infer.onnx"
    "ddddocr common:$d/common.onnx"
    "ddddocr common_old (int8):$d/common_old.onnx"
    "ddddocr common_det:$d/common_det.onnx"
)
out=$dir/json
mkdir -p "$out"
for m in "${models[@]}"; do
    name=${m%%:*}
    file=${m#*:}
    key=$(basename "$file" .onnx)
    for bits in 8 16; do
        for enc in sm csd; do
            for ks in 8 16 32; do
                for fold in fold nofold; do
                    flag=()
                    [ "$fold" = nofold ] && flag=(--no-fold-bn)
                    "$bin" knead --weights "$file" --bits "$bits" --encoding "$enc" --ks "$ks" \
                        "${flag[@]}" --json "$out/$key-$bits-$enc-$ks-$fold.json" > /dev/null 2>&1
                done
            done
        done
    done
    echo "$name:$key"
done > "$out/models.txt"
python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
models = [l.strip().split(':') for l in open(f"{out}/models.txt")]
print("| network | bits | enc | weights | BN folded | zero bits unfolded / folded | KS=8 unfolded / folded | KS=16 unfolded / folded | KS=32 unfolded / folded |")
print("|---|---|---|---|---|---|---|---|---|")
for name, key in models:
    for bits in (8, 16):
        for enc in ("sm", "csd"):
            j = lambda ks, f: json.load(open(f"{out}/{key}-{bits}-{enc}-{ks}-{f}.json"))
            z = [j(16, f)["total"]["zero_bit_fraction"] for f in ("nofold", "fold")]
            sp = [[j(ks, f)["total"]["ideal_speedup"] for f in ("nofold", "fold")] for ks in (8, 16, 32)]
            w = j(16, "fold")["total"]["weights"]
            nf = len(j(16, "fold")["folded_batch_norms"])
            cells = " | ".join(f"{a:.3f} / {b:.3f}" for a, b in sp)
            print(f"| {name} | {bits} | {enc} | {w:,} | {nf} | {100*z[0]:.1f}% / {100*z[1]:.1f}% | {cells} |")
EOF
