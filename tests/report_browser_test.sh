#!/usr/bin/env bash
# Browser test: `rooftop report` for a preset, opened in headless Chromium. Passes when the page
# loads with no console message other than the report's own, all four plots are laid out (the
# page sets data-plots-rendered on <body>), and each plot in the rendered DOM holds real data:
# drawn paths (not gnuplot's marker definitions) with many points, and numeric axis tick labels,
# so that a blank SVG of the right size fails. Exits 77 (CTest: skipped) when chromium, gnuplot
# or perl is absent.
#   report_browser_test.sh ROOFTOP_BINARY
set -euo pipefail
rooftop=$1
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium_bin" ]; then
  echo "SKIP: chromium not found on PATH (Debian package chromium; scripts/quickstart.sh installs it)"
  exit 77
fi
if ! command -v gnuplot >/dev/null; then
  echo "SKIP: gnuplot not found on PATH (Debian package gnuplot-nox)"
  exit 77
fi
if ! command -v perl >/dev/null; then
  echo "SKIP: perl not found on PATH (Debian package perl-base)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$rooftop" report --model llama-3.1-8b --gpu h100-sxm --batch 16 --input-len 1024 \
  --output-len 128 --out "$work/report" >/dev/null
timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/report/report.html" >"$work/dom.html" 2>"$work/chromium.log" || {
  echo "FAIL: chromium exited with $?"; cat "$work/chromium.log"; exit 1; }
status=0
# Chromium logs every console message (errors, CSP violations, uncaught exceptions) as CONSOLE.
console=$(grep 'CONSOLE' "$work/chromium.log" || true)
others=$(printf '%s\n' "$console" | grep -v '"rooftop report: 4 plots rendered"' | grep . || true)
if [ -n "$others" ]; then
  echo "FAIL: console messages:"; printf '%s\n' "$others"; status=1
fi
if ! grep -q 'data-plots-rendered="4"' "$work/dom.html"; then
  echo "FAIL: the page did not lay out its 4 plots; console:"; printf '%s\n' "$console"; status=1
fi
svgs=$(grep -o '<svg' "$work/dom.html" | wc -l)
if [ "$svgs" -lt 4 ]; then echo "FAIL: $svgs inline <svg> elements, expected 4"; status=1; fi
# Each plot's content: >= 10 drawn paths with >= 60 points in all, and >= 4 numeric tick labels.
content=$(perl -0ne '
  my $n = 0;
  while (/<figure class="plot" id="plot-([^"]+)">(.*?)<\/figure>/sg) {
    my ($name, $fig) = ($1, $2);
    my ($paths, $points, $ticks) = (0, 0, 0);
    while ($fig =~ /<path\b([^>]*)>/g) {
      my $attrs = $1;
      next if $attrs =~ /\bid="/;              # gnuplot point-marker definitions
      next unless $attrs =~ /\sd="([^"]*)"/;
      my $k = () = $1 =~ /-?[0-9.]+,-?[0-9.]+/g;
      $paths++ if $k >= 2;
      $points += $k;
    }
    $ticks++ while $fig =~ />\s*-?[0-9][0-9.e+-]*%?\s*</g;
    my $ok = $paths >= 10 && $points >= 60 && $ticks >= 4;
    $n++;
    print(($ok ? "ok" : "BLANK"), " $name: $paths paths, $points points, $ticks tick labels\n");
  }
  print "BLANK: no plots found\n" if $n == 0;
' "$work/dom.html")
printf '%s\n' "$content"
plots_ok=$(printf '%s\n' "$content" | grep -c '^ok' || true)
if printf '%s\n' "$content" | grep -q BLANK || [ "$plots_ok" -ne 4 ]; then
  echo "FAIL: a plot holds no data (blank or nearly blank SVG)"; status=1
fi
[ $status -eq 0 ] && echo "ok: report renders in $("$chromium_bin" --version 2>/dev/null | head -1) with 4 plots and no console errors"
exit $status
