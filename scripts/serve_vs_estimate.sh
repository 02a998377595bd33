#!/usr/bin/env bash
# The table "Against the static estimate" of docs/serving.md: Llama-3.1-8B in FP8 on one H100 SXM,
# every request at t = 0, `rooftop estimate --batch max` against `rooftop serve --admission
# reserve`, with the settings of the TensorRT-LLM max-throughput rows (docs/validation/serving.md).
# Usage: bash scripts/serve_vs_estimate.sh [path/to/rooftop]   (default: build/rooftop)
set -euo pipefail
rooftop=${1:-build/rooftop}
common=(--model llama-3.1-8b --gpu h100-sxm --weight-dtype fp8 --kv-dtype fp8 --reserve-fraction 0.05)
printf '%-12s %8s %12s %12s %8s\n' "in/out" requests estimate serve diff
for row in "128 128 30000" "128 2048 3000" "2048 128 3000" "1000 1000 3000" "2048 2048 1500" \
           "20000 2000 1000"; do
  read -r in out n <<<"$row"
  cap=$((n < 8192 ? n : 8192))
  e=$("$rooftop" estimate "${common[@]}" --batch max --max-batch "$cap" --input-len "$in" \
        --output-len "$out" --max-prefill-tokens 8192 | awk '/^throughput/ {print $2}')
  s=$("$rooftop" serve "${common[@]}" --requests "$n" --max-num-seqs 8192 --admission reserve \
        --input-len "$in" --output-len "$out" | awk '/^throughput:/ {print $2}')
  printf '%-12s %8s %12.0f %12.0f %+7.2f%%\n' "$in/$out" "$n" "$e" "$s" \
    "$(awk -v a="$s" -v b="$e" 'BEGIN {print (a / b - 1) * 100}')"
done
