#!/usr/bin/env bash
# Co-simulate the emitted Verilog in Verilator against the in-process rust-hdl simulation for
# every acceptance combination of issue 5: PE, 4x4 and 8x8 arrays x {sm, csd} x {8, 16}-bit.
# Prints one table row per design; exits non-zero if any design mismatches or fails.
# Usage: scripts/cosim-matrix.sh [VECTORS_PE] [TILES_ARRAY]   (defaults: 100 dot products, 3 tiles)
set -euo pipefail
cd "$(dirname "$0")/.."
pe_vectors="${1:-100}"
tiles="${2:-3}"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
printf '| design | bits | encoding | vectors | cycles | mismatches | golden mismatches | results checked | build (s) |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for size in pe 4 8; do
  for bits in 8 16; do
    for enc in sm csd; do
      cfg="$work/${size}_${bits}_${enc}.toml"
      if [ "$size" = pe ]; then rows=1; vectors="$pe_vectors"; else rows="$size"; vectors="$tiles"; fi
      cat > "$cfg" <<TOML
[array]
rows = $rows
cols = $rows

[pe]
kind = "sac"
weight_bits = $bits
act_bits = $bits
ks = 16
encoding = "$enc"
max_dot_len = 4608

[top]
name = "tetris_top"
clock_mhz = 100.0
TOML
      json="$work/${size}_${bits}_${enc}.json"
      if ! ./target/release/tetris cosim --config "$cfg" --vectors "$vectors" --json "$json" \
          --work-dir "$work/run_${size}_${bits}_${enc}" > "$work/log" 2>&1; then
        status=1
        echo "cosim failed for $size $bits-bit $enc:" >&2
        tail -20 "$work/log" >&2
      fi
      field() { grep -o "\"$1\": *[^,}]*" "$json" | head -1 | sed 's/.*: *//; s/"//g'; }
      name=$([ "$size" = pe ] && echo "PE" || echo "${size}x${size} array")
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %.1f |\n' "$name" "$bits" "$enc" \
        "$(field vectors)" "$(field cycles)" "$(field mismatches)" "$(field golden_mismatches)" \
        "$(field results_checked)" "$(field build_s)"
    done
  done
done
exit $status
