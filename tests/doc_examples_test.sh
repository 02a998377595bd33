#!/bin/bash
# Reruns every "$ rooftop ..." example in README.md and docs/serving.md and checks that the
# lines shown after it (other than "...") are lines the command prints now, in the same order
# ("..." stands for lines left out), so a model change that moves a documented figure or
# reorders a table fails here until the page is updated.
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
    mapfile -t got <<<"$out"
    at=0 # the next output line a shown line may match
    while ((i < n)) && [[ ${lines[i]} != '```'* ]]; do
      want=${lines[i]}
      ((i++))
      [[ $want == '...' || -z $want ]] && continue
      j=$at
      while ((j < ${#got[@]})) && [[ ${got[j]} != "$want" ]]; do ((j++)); done
      if ((j < ${#got[@]})); then
        at=$((j + 1))
      elif grep -qxF -- "$want" <<<"$out"; then
        echo "FAIL $doc: 'rooftop $cmd' prints this line, but not in the order shown:"
        echo "  $want"
        fail=1
      else
        echo "FAIL $doc: 'rooftop $cmd' no longer prints:"
        echo "  $want"
        fail=1
      fi
    done
  done
done
exit $fail
