#!/bin/sh
# Calibrate rooftop on a GPU node, from the bundle scripts/bundle.sh builds (this file sits at the
# bundle's top, beside bin/ and share/): find cuBLASLt 13, record nvidia-smi, run a quick smoke
# calibration, then the full one, then validate it. Everything goes under DEST (six files):
#   log.txt  nvidia-smi.txt  <date>.json  efficiency.json  validation.json  validation.txt
# Usage: sh calibrate-gpu.sh [--gpu ID] [--device N] [--dest DIR] [-- CALIBRATE OPTIONS...]
#   --gpu ID     catalogue GPU (rooftop hw list); default $ROOFTOP_GPU, else mapped from the device
#                name nvidia-smi reports, else h100-sxm (no nvidia-smi, or it names no device)
#   --device N   CUDA device index; default $ROOFTOP_DEVICE, else 0
#   --dest DIR   output directory; default $ROOFTOP_DEST, else ./rooftop-calibration
#   options after -- go to the full `rooftop calibrate` (e.g. -- --max-seconds 0.2)
# Exits 0, 2 on a usage error, else the status of the first step that failed (see docs/calibration.md).
set -eu

usage() {
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

gpu=${ROOFTOP_GPU:-}
device=${ROOFTOP_DEVICE:-0}
dest=${ROOFTOP_DEST:-rooftop-calibration}
while [ $# -gt 0 ]; do
  case $1 in
    --gpu) [ $# -ge 2 ] || usage; gpu=$2; shift 2 ;;
    --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
    --dest) [ $# -ge 2 ] || usage; dest=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) usage ;;
    *) echo "calibrate-gpu: unknown argument '$1'" >&2; usage ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
rooftop=$here/bin/rooftop
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
log=$dest/log.txt
: >"$log"

say() {
  printf 'calibrate-gpu: %s\n' "$*" | tee -a "$log"
}

# fail STATUS MESSAGE: stop with a message that names the log.
fail() {
  code=$1
  shift
  say "FAILED: $*"
  say "see $log"
  exit "$code"
}

# logged CMD...: runs CMD with its output shown and appended to the log; returns CMD's status
# (POSIX sh has no pipefail, so the status travels on fd 3).
logged() {
  exec 4>&1
  status=$({ { rc=0; "$@" 2>&1 || rc=$?; echo "$rc" >&3; } | tee -a "$log" >&4; } 3>&1)
  exec 4>&-
  return "$status"
}

# step NAME CMD...: one logged step; the script stops at the first that fails.
step() {
  name=$1
  shift
  say "== $(date -u +%H:%M:%S) $name"
  if logged "$@"; then
    return 0
  else
    rc=$?
    fail "$rc" "$name (exit status $rc)"
  fi
}

# The first directory holding libcublasLt.so.13: LD_LIBRARY_PATH, the CUDA toolkit, conda, then
# pip's wheels (nvidia-cublas 13 unpacks to nvidia/cu13/lib; older ones to nvidia/cublas/lib).
find_cublaslt() {
  old_ifs=$IFS
  IFS=:
  for d in ${LD_LIBRARY_PATH:-}; do
    if [ -n "$d" ] && [ -e "$d/libcublasLt.so.13" ]; then
      IFS=$old_ifs
      echo "$d"
      return 0
    fi
  done
  IFS=$old_ifs
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda*/lib64 \
    /usr/local/cuda*/targets/x86_64-linux/lib "${CONDA_PREFIX:-/nonexistent}/lib"; do
    if [ -e "$d/libcublasLt.so.13" ]; then
      echo "$d"
      return 0
    fi
  done
  command -v python3 >/dev/null 2>&1 || return 1
  python3 - <<'EOF' 2>/dev/null
import os
dirs = []
try:
    import nvidia.cublas as m
    dirs += [os.path.join(p, "lib") for p in m.__path__]
except Exception:
    pass
try:
    import nvidia
    for p in nvidia.__path__:
        dirs += [os.path.join(p, "cu13", "lib"), os.path.join(p, "cublas", "lib")]
except Exception:
    pass
for d in dirs:
    if os.path.exists(os.path.join(d, "libcublasLt.so.13")):
        print(d)
        raise SystemExit(0)
raise SystemExit(1)
EOF
}

# The catalogue id for an nvidia-smi device name; empty when rooftop has no such GPU.
gpu_id_for() {
  case $1 in
    *GH200* | *GB300* | *"H100 NVL"* | *"H200 NVL"*) echo "" ;;
    *GB200*) echo gb200 ;;
    *B300*) echo b300 ;;
    *B200*) echo b200 ;;
    *H200*) echo h200-sxm ;;
    *H100*PCIe*) echo h100-pcie ;;
    *H100*) echo h100-sxm ;;
    *A100*SXM*80GB*) echo a100-sxm-80gb ;;
    *L40S*) echo l40s ;;
    *) echo "" ;;
  esac
}

[ -x "$rooftop" ] || fail 1 "$rooftop not found: run this script from an unpacked bundle"
say "$(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(uname -n) ($(uname -sr)); writing to $dest"

# (a) cuBLASLt, which the bundle links dynamically.
if lib=$(find_cublaslt); then
  LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
  say "libcublasLt.so.13 in $lib"
else
  say "libcublasLt.so.13 not found in LD_LIBRARY_PATH, /usr/local/cuda*, conda or pip's nvidia wheels"
fi
if version=$("$rooftop" --version 2>&1); then
  say "$version"
else
  printf '%s\n' "$version" | tee -a "$log"
  fail 127 "$rooftop cannot start: it needs libcublasLt.so.13 (CUDA 13 cuBLAS: the toolkit, or" \
    "pip install nvidia-cublas): put the directory that holds it in LD_LIBRARY_PATH"
fi

# (b) The device as the driver reports it.
if command -v nvidia-smi >/dev/null 2>&1; then
  # A record, not a requirement: a failing nvidia-smi (NVML in a container) does not stop the
  # calibration, whose smoke test says whether CUDA itself works.
  say "== $(date -u +%H:%M:%S) nvidia-smi"
  logged sh -c 'nvidia-smi >"$1" 2>&1 && nvidia-smi -q >>"$1" 2>&1; rc=$?; head -n 20 "$1"; exit $rc' \
    sh "$dest/nvidia-smi.txt" || say "warning: nvidia-smi failed (exit status $?); going on"
  # A failing nvidia-smi prints its error on stdout ("Failed to initialize NVML: ..."): not a name.
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader -i "$device" 2>/dev/null) || name=
  say "device $device: ${name:-unknown}"
  if [ -z "$gpu" ] && [ -n "$name" ]; then
    gpu=$(gpu_id_for "$name")
    [ -n "$gpu" ] || fail 2 "no catalogue GPU for device '$name': pass --gpu ID (see rooftop hw list)"
  elif [ -z "$gpu" ]; then
    say "warning: nvidia-smi did not name device $device; assuming h100-sxm (rooftop checks the" \
      "device's compute capability and SM count against it)"
    gpu=h100-sxm
  fi
else
  say "warning: nvidia-smi not found (no NVIDIA driver on PATH?); device not recorded"
  gpu=${gpu:-h100-sxm}
fi
say "calibrating as catalogue GPU $gpu, device $device"

# (c) A quick smoke run, then the full calibration, then its validation. They run inside DEST so
# that the efficiency table names its calibration file relatively ("calibration": "<date>.json"),
# which stays true once both are copied into data/calibration/<gpu>/.
cd "$dest"
# The smoke test stops the script when it cannot run at all (no device, no cuBLASLt, a wrong
# --gpu: it writes nothing). When it ran but some of its cases failed (or a kernel failed its
# self-check), it wrote quick.json and exited 1: that file is kept for diagnosis and the full
# calibration still runs, since the device may be lent only this once.
say "== $(date -u +%H:%M:%S) smoke test (quick calibration)"
rm -f quick.json quick.json.partial quick.efficiency.json
smoke_rc=0
logged "$rooftop" calibrate --backend cuda --gpu "$gpu" --device "$device" --quick \
  --max-seconds 0.05 --out quick.json --efficiency-out quick.efficiency.json || smoke_rc=$?
if [ "$smoke_rc" -eq 0 ]; then
  rm -f quick.json quick.efficiency.json
elif [ -f quick.json ]; then
  say "warning: the smoke test exited $smoke_rc but ran (failed cases are marked in quick.json, kept); going on"
else
  fail "$smoke_rc" "smoke test (quick calibration) (exit status $smoke_rc)"
fi
date=$(date -u +%Y-%m-%d)
# A run whose cases partly failed still writes its file (failed cases marked) and exits 1: validate
# what did run, then report the failure.
say "== $(date -u +%H:%M:%S) full calibration"
# Files of an earlier run into the same DEST would pass for this run's.
rm -f "$date.json" "$date.json.partial" efficiency.json validation.json validation.txt
cal_rc=0
logged "$rooftop" calibrate --backend cuda --gpu "$gpu" --device "$device" \
  --out "$date.json" --efficiency-out efficiency.json "$@" || cal_rc=$?
if [ "$cal_rc" -ne 0 ]; then
  if [ ! -f "$date.json" ]; then
    [ ! -f "$date.json.partial" ] || say "the cases that ran before it stopped are in $date.json.partial"
    fail "$cal_rc" "full calibration (exit status $cal_rc)"
  fi
  say "full calibration exited $cal_rc but wrote $date.json (failed cases are marked in it); validating what ran"
fi
step "validate (JSON)" sh -c '"$1" validate --calibration "$2" --json >validation.json' \
  sh "$rooftop" "$date.json"
step "validate" sh -c '"$1" validate --calibration "$2" >validation.txt 2>&1; rc=$?; cat validation.txt; exit $rc' \
  sh "$rooftop" "$date.json"
[ "$cal_rc" -eq 0 ] || fail "$cal_rc" "full calibration: some cases failed (exit status $cal_rc; see $date.json)"
[ "$smoke_rc" -eq 0 ] || fail "$smoke_rc" "smoke test: some cases failed (exit status $smoke_rc; see" \
  "quick.json), although the full calibration passed"
say "done: $(ls | tr '\n' ' ')"
say "next: copy $date.json and efficiency.json into data/calibration/$gpu/ (docs/calibration.md)"
