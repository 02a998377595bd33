#!/usr/bin/env bash
# Build the calibration bundle: a Release, portable (-DROOFTOP_PORTABLE=ON) rooftop with the CUDA
# backend, installed into OUTDIR with its data and calibrate-gpu.sh, to copy to a GPU node that
# has only an NVIDIA driver and cuBLASLt 13 (docs/calibration.md).
#   bash scripts/bundle.sh [OUTDIR]        # default build-bundle/rooftop-bundle
# Environment: ROOFTOP_CUDA_ARCHS (default: those of 80;90;100 that nvcc supports),
# ROOFTOP_BUNDLE_BUILD_DIR (default build-bundle/build), CUDACXX (default /usr/local/cuda/bin/nvcc).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/build-bundle/rooftop-bundle}
build=${ROOFTOP_BUNDLE_BUILD_DIR:-$repo/build-bundle/build}
max_mib=30       # what can be carried to the GPU node
max_glibc=2.36   # Debian 12; the GPU node has at least this

die() {
  echo "bundle: error: $*" >&2
  exit 1
}

nvcc=${CUDACXX:-}
[ -n "$nvcc" ] || nvcc=$(command -v nvcc || true)
[ -n "$nvcc" ] || nvcc=/usr/local/cuda/bin/nvcc
[ -x "$nvcc" ] || die "nvcc not found (set CUDACXX or install the CUDA 13 toolkit in /usr/local/cuda)"
if [ -z "${ROOFTOP_CUDA_ARCHS:-}" ]; then
  supported=$("$nvcc" --list-gpu-arch)
  archs=""
  for a in 80 90 100; do
    grep -qx "compute_$a" <<<"$supported" && archs="${archs:+$archs;}$a"
  done
  [ -n "$archs" ] || die "$nvcc supports none of sm_80, sm_90, sm_100"
else
  archs=$ROOFTOP_CUDA_ARCHS
fi

# A previous bundle (marked by the file .rooftop-bundle that this script writes) is replaced;
# any other non-empty directory is left alone.
if [ -e "$out" ]; then
  if [ -f "$out/.rooftop-bundle" ] && [ -x "$out/bin/rooftop" ]; then
    rm -rf "$out"
  elif [ -n "$(ls -A "$out")" ]; then
    die "$out exists and is not a rooftop bundle; choose another OUTDIR"
  fi
fi

echo "bundle: building for CUDA architectures $archs with $nvcc"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DROOFTOP_PORTABLE=ON \
  -DROOFTOP_ENABLE_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$archs" \
  -DROOFTOP_BUILD_TESTS=OFF -DROOFTOP_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"
cmake --install "$build" --prefix "$out" --strip >/dev/null
install -m 755 "$repo/scripts/calibrate-gpu.sh" "$out/calibrate-gpu.sh"
echo "rooftop calibration bundle, made by scripts/bundle.sh; the directory is replaced by the next run" \
  >"$out/.rooftop-bundle"

# Only glibc and cuBLAS may be needed: the GPU node has nothing else. (ldd also lists what
# libcublasLt.so.13 itself needs, libgcc_s among them, which comes with cuBLAS.)
exe=$out/bin/rooftop
echo "bundle: ldd $exe"
ldd "$exe" | sed 's/^/  /'
extra=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -Ev \
  '^(libc|libm|libdl|libpthread|librt|ld-linux-x86-64|libcublasLt|libcublas)\.so\.[0-9]+$' || true)
[ -z "$extra" ] || die "unexpected shared libraries: $(tr '\n' ' ' <<<"$extra")"
glibc=$(objdump -T "$exe" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -Vu | tail -1)
[ "$(printf '%s\n' "$glibc" "$max_glibc" | sort -V | tail -1)" = "$max_glibc" ] ||
  die "needs GLIBC_$glibc, newer than $max_glibc"

bytes=$(du -sb "$out" | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
[ "$bytes" -le $((max_mib * 1048576)) ] || die "$out is $mib MiB, over $max_mib MiB"
echo "bundle: $out: $mib MiB, needs GLIBC_$glibc, CUDA architectures $archs"
echo "bundle: on the GPU node: sh $(basename "$out")/calibrate-gpu.sh --gpu h100-sxm --dest DIR"
