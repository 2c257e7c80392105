#!/usr/bin/env bash
# Install the external EDA tools from Debian's packages when any is missing.
# Verilator (lint + co-simulation), Yosys (synthesis, formal), Icarus (independent simulator),
# nextpnr-ice40 + icestorm (iCE40 place-and-route and timing), OpenSTA + the OSU 0.18 um
# standard-cell library (ASIC timing and power: `tetris power`), GNU parallel (sweeps), ccache
# (Verilator builds share the compiled Verilator runtime through it), make and g++ (Verilator's
# C++ builds; Debian's verilator package does not depend on them).
set -euo pipefail
need=()
for t in verilator:verilator yosys:yosys iverilog:iverilog nextpnr-ice40:nextpnr-ice40 \
  icetime:fpga-icestorm sta:opensta parallel:parallel ccache:ccache make:make g++:g++; do
  cmd=${t%%:*}; pkg=${t##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -f /usr/share/qflow/tech/osu018/osu018_stdcells.lib ] || need+=(qflow-tech-osu018)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "== installing Debian packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
