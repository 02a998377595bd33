#!/usr/bin/env bash
# Install test: `cmake --install` into a temporary prefix, move the prefix elsewhere, and run the
# installed `rooftop` from outside the repository with ROOFTOP_DATA_DIR unset. A marker GPU added
# only to the installed catalogue must be listed and estimated, and the model preset must be read
# from the installed data, so the test fails whenever rooftop reads the source tree's data/ (or
# nothing) instead of <prefix>/share/rooftop/data.
#   install_test.sh CMAKE_COMMAND BUILD_DIR
set -euo pipefail
cmake_cmd=$1
build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake_cmd" --install "$build_dir" --prefix "$work/stage" >/dev/null
mv "$work/stage" "$work/moved"
prefix=$work/moved
gpus=$prefix/share/rooftop/data/hardware/gpus
sed 's/"id": "l40s"/"id": "install-marker"/' "$gpus/l40s.json" >"$gpus/install-marker.json"
cd "$work"
list=$(env -u ROOFTOP_DATA_DIR "$prefix/bin/rooftop" hw list)
if ! grep -q '^install-marker ' <<<"$list"; then
  echo "FAIL: the installed rooftop did not read its own catalogue ($gpus):"
  echo "$list"
  exit 1
fi
est=$(env -u ROOFTOP_DATA_DIR "$prefix/bin/rooftop" estimate --model llama-3.1-8b \
  --gpu install-marker --batch 1 --input-len 16 --output-len 4 --json)
want="\"model_file\": \"$prefix/share/rooftop/data/models/llama-3.1-8b.config.json\""
if ! grep -qF "$want" <<<"$est"; then
  echo "FAIL: expected $want in:"
  head -8 <<<"$est"
  exit 1
fi
echo "PASS: $prefix/bin/rooftop reads $prefix/share/rooftop/data"
