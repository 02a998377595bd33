#!/bin/bash
# Reruns every "$ rooftop ..." example in README.md and docs/serving.md and checks that each
# line shown after it (other than "...") is a line the command prints now, so a model change
# that moves a documented figure fails here until the page is updated.
# Usage: doc_examples_test.sh ROOFTOP_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
fail=0
for doc in "$src/README.md" "$src/docs/serving.md"; do
  mapfile -t lines <"$doc"
  n=${#lines[@]}
  i=0
  while ((i < n)); do
    if [[ ${lines[i]} != '$ rooftop '* ]]; then
      ((i++))
      continue
    fi
    cmd=${lines[i]#'$ rooftop '}
    while [[ $cmd == *'\' ]]; do # continuation lines
      ((i++))
      cmd="${cmd%\\} ${lines[i]}"
    done
    ((i++))
    out=$(cd "$src" && eval "\"$bin\" $cmd" 2>&1) || {
      echo "FAIL $doc: '$cmd' exited non-zero: $out"
      fail=1
    }
    while ((i < n)) && [[ ${lines[i]} != '```'* ]]; do
      want=${lines[i]}
      ((i++))
      [[ $want == '...' || -z $want ]] && continue
      if ! grep -qxF -- "$want" <<<"$out"; then
        echo "FAIL $doc: 'rooftop $cmd' no longer prints:"
        echo "  $want"
        fail=1
      fi
    done
  done
done
exit $fail
