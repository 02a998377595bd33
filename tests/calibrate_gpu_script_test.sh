#!/bin/sh
# scripts/calibrate-gpu.sh with a fake rooftop and a fake nvidia-smi: the paths that need no GPU.
# Usage: calibrate_gpu_script_test.sh SCRIPT
set -eu
script=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/bin" "$work/path"
cp "$script" "$work/bundle/calibrate-gpu.sh"
cat >"$work/bundle/bin/rooftop" <<'FAKE'
#!/bin/sh
case "$1" in
--version) echo "rooftop fake" ;;
calibrate)
  out=
  while [ $# -gt 0 ]; do
    [ "$1" = --out ] && out=$2
    [ "$1" = --gpu ] && echo "fake calibrate --gpu $2"
    shift
  done
  echo '{}' >"$out" ;;
validate) echo validated ;;
esac
FAKE
chmod +x "$work/bundle/bin/rooftop"
fail() {
  echo "FAIL: $*" >&2
  cat "$work/out.txt" >&2
  exit 1
}

# nvidia-smi that cannot reach NVML prints its error on stdout and exits 9: a warning, and the
# run goes on as h100-sxm; the error is not taken for the device's name.
printf '#!/bin/sh\necho "Failed to initialize NVML: Unknown Error"\nexit 9\n' >"$work/path/nvidia-smi"
chmod +x "$work/path/nvidia-smi"
rc=0
PATH="$work/path:$PATH" sh "$work/bundle/calibrate-gpu.sh" --dest "$work/d1" >"$work/out.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "failing nvidia-smi: exit $rc"
grep -q "fake calibrate --gpu h100-sxm" "$work/out.txt" || fail "failing nvidia-smi: not h100-sxm"

# a named device maps to its catalogue id
printf '#!/bin/sh\ncase "$*" in *query-gpu*) echo "NVIDIA H100 PCIe" ;; *) echo table ;; esac\n' \
  >"$work/path/nvidia-smi"
rc=0
PATH="$work/path:$PATH" sh "$work/bundle/calibrate-gpu.sh" --dest "$work/d2" >"$work/out.txt" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "H100 PCIe: exit $rc"
grep -q "fake calibrate --gpu h100-pcie" "$work/out.txt" || fail "H100 PCIe: not h100-pcie"
echo ok
