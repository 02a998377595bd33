#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: install what is missing, build, then either run the
# main job with its default inputs (no argument) or run the whole test suite (`test`).
#   bash scripts/quickstart.sh          # install, build, run the default estimate and report
#   bash scripts/quickstart.sh test     # install, build, run all tests (ctest -LE gpu)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ ninja-build pkg-config libcli11-dev nlohmann-json3-dev doctest-dev libfmt-dev
  gnuplot-nox libkainjow-mustache-dev chromium libeigen3-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quickstart: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"

case "${1:-run}" in
  test)
    cd build && ctest -LE gpu --output-on-failure -j "$jobs"
    ;;
  run)
    ./build/rooftop estimate --model llama-3.1-70b --gpu h100-sxm --gpus 4 --tp 4 \
      --weight-dtype fp8 --kv-dtype fp8 --batch 32 --input-len 2048 --output-len 256
    ./build/rooftop report --model llama-3.1-70b --gpu h100-sxm --gpus 4 --tp 4 \
      --weight-dtype fp8 --kv-dtype fp8 --batch 32 --input-len 2048 --output-len 256 \
      --out rooftop-report
    echo "quickstart: open rooftop-report/report.html in a browser (plots: rooftop-report/*.png)"
    ;;
  *)
    echo "usage: bash scripts/quickstart.sh [test]" >&2
    exit 2
    ;;
esac
