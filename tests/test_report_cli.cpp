// CLI tests of `rooftop report`: the directory it writes (report.html with the plots inline, PNGs
// of the expected size) and its one-line error when gnuplot is missing.
#include "cli_runner.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

using cli_test::Run;
using cli_test::slurp;
using cli_test::TempDir;
using cli_test::run_rooftop;

bool gnuplot_on_path() {
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/// Width and height from a PNG's signature and IHDR chunk (big-endian, bytes 16..23);
/// {0, 0} when the file is not a PNG.
std::array<std::uint32_t, 2> png_size(const fs::path &p) {
  const std::string s = slurp(p);
  const std::string sig = "\x89PNG\r\n\x1a\n";
  if (s.size() < 24 || s.compare(0, 8, sig) != 0 || s.compare(12, 4, "IHDR") != 0) return {0, 0};
  const auto be32 = [&](std::size_t i) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(s[i + k]);
    return v;
  };
  return {be32(16), be32(20)};
}

std::size_t count(const std::string &hay, const std::string &needle) {
  std::size_t n = 0;
  for (auto i = hay.find(needle); i != std::string::npos; i = hay.find(needle, i + 1)) ++n;
  return n;
}

/// The HTML text `s` with mustache's escapes undone (&amp; &lt; &gt; &quot; &apos; ...).
std::string unescape(std::string s) {
  for (const auto &[from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&apos;", "'"},
           {"&#x27;", "'"}, {"&#x2F;", "/"}, {"&#47;", "/"}, {"&amp;", "&"}})
    for (auto i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
      s.replace(i, from.size(), to);
  return s;
}

/// The rows of the table with id "table-<id>" in report.html, each as its cells' text.
std::vector<std::vector<std::string>> table_rows(const std::string &html, const std::string &id) {
  std::vector<std::vector<std::string>> rows;
  const auto start = html.find("<table id=\"table-" + id + "\">");
  if (start == std::string::npos) return rows;
  const auto end = html.find("</table>", start);
  for (auto r = html.find("<tr>", start); r < end; r = html.find("<tr>", r + 1)) {
    std::vector<std::string> cells;
    const auto row_end = html.find("</tr>", r);
    for (auto c = html.find("<td", r); c < row_end; c = html.find("<td", c + 1)) {
      const auto text = html.find('>', c) + 1;
      cells.push_back(unescape(html.substr(text, html.find("</td>", text) - text)));
    }
    if (!cells.empty()) rows.push_back(std::move(cells));
  }
  return rows;
}

/// The "To reproduce" command of report.html, unescaped.
std::string command_of(const std::string &html) {
  const auto i = html.find("<pre>");
  if (i == std::string::npos) return "";
  return unescape(html.substr(i + 5, html.find("</pre>", i) - i - 5));
}

/// The value of the Inputs row `key`.
std::string input(const std::string &html, const std::string &key) {
  const std::string k = "<tr><th>" + key + "</th><td>";
  const auto i = html.find(k);
  if (i == std::string::npos) return "";
  return unescape(html.substr(i + k.size(), html.find("</td>", i) - i - k.size()));
}

/// An executable script `dir/gnuplot` with `body` (a stand-in that fails).
void fake_gnuplot(const fs::path &dir, const std::string &body) {
  fs::create_directories(dir);
  std::ofstream(dir / "gnuplot") << "#!/bin/sh\n" << body;
  fs::permissions(dir / "gnuplot", fs::perms::owner_all | fs::perms::group_read |
                                       fs::perms::group_exec | fs::perms::others_read |
                                       fs::perms::others_exec);
}

const std::vector<std::string> k_args{"report", "--model", "llama-3.1-70b", "--gpu", "h100-sxm",
                                      "--gpus", "4", "--tp", "4", "--weight-dtype", "fp8",
                                      "--kv-dtype", "fp8", "--batch", "32"};

} // namespace

TEST_CASE("report: report.html with four inline SVG plots and four PNGs of the expected size") {
  TempDir tmp;
  auto args = k_args;
  const auto dir = tmp.path / "out";
  args.insert(args.end(), {"--out", dir.string()});
  const Run r = run_rooftop(args, tmp.path);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  if (!gnuplot_on_path()) {
    MESSAGE("gnuplot is not on PATH: checking the error path only (apt-get install gnuplot-nox)");
    CHECK(r.exit_code == 3);
    CHECK(r.err.rfind("error: gnuplot not found", 0) == 0);
    return;
  }
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  const std::string html = slurp(dir / "report.html");
  REQUIRE(!html.empty());
  CHECK(count(html, "<svg") == 4);
  CHECK(count(html, "</svg>") == 4);
  CHECK(count(html, "<?xml") == 0);
  for (const char *id : {"plot-roofline", "plot-breakdown", "plot-batch_sweep", "plot-memory"})
    CHECK_MESSAGE(html.find(std::string("id=\"") + id + "\"") != std::string::npos, id);
  // Self-contained: no stylesheet, script or image loaded from elsewhere.
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("llama-3.1-70b") != std::string::npos);
  // Sizes from reports/plots.hpp (k_*_size).
  const std::vector<std::pair<std::string, std::array<std::uint32_t, 2>>> pngs{
      {"roofline.png", {1100, 680}}, {"breakdown.png", {1100, 420}},
      {"batch_sweep.png", {1100, 620}}, {"memory.png", {1100, 380}}};
  for (const auto &[name, size] : pngs) {
    INFO(name);
    CHECK(png_size(dir / name) == size);
    CHECK(r.out.find(name) != std::string::npos);
  }
  CHECK(fs::exists(dir / "gnuplot" / "roofline.gp"));
}

TEST_CASE("report: without gnuplot, one error line, exit 3, nothing written") {
  TempDir tmp;
  auto args = k_args;
  const auto dir = tmp.path / "out";
  args.insert(args.end(), {"--out", dir.string()});
  const Run r = run_rooftop(args, tmp.path, (tmp.path / "empty-bin").c_str());
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("error: gnuplot not found on PATH", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(!fs::exists(dir));
}

TEST_CASE("report: a deployment that does not fit still gets its report, and exit 2") {
  if (!gnuplot_on_path()) {
    MESSAGE("skipped: gnuplot is not on PATH");
    return;
  }
  TempDir tmp;
  const auto dir = tmp.path / "oom";
  const Run r = run_rooftop(
      {"report", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--out", dir.string()},
      tmp.path);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: llama-3.1-405b does not fit", 0) == 0);
  const std::string html = slurp(dir / "report.html");
  CHECK(html.find("id=\"out-of-memory\"") != std::string::npos);
  CHECK(count(html, "<svg") == 4);
  CHECK(png_size(dir / "memory.png")[0] == 1100);
  // The batch sweep is out of memory all over (shaded and titled), not a healthy plot.
  const std::string sweep = slurp(dir / "gnuplot" / "batch_sweep.gp");
  CHECK(sweep.find("rect from graph 0,graph 0 to graph 1,graph 1") != std::string::npos);
  CHECK(sweep.find("DOES NOT FIT: out of memory even at batch 1") != std::string::npos);
  for (const auto &row : table_rows(html, "sweep")) CHECK(row.at(6) == "no"); // fits: no
  // The key figures are greyed and tagged.
  CHECK(html.find("<div class=\"card nofit\"><div class=\"k\">TTFT</div>") != std::string::npos);
  CHECK(html.find("does not fit: hypothetical") != std::string::npos);
}

TEST_CASE("report: pipeline parallelism (TP=4 x PP=2) in the inputs, breakdown and command") {
  if (!gnuplot_on_path()) {
    MESSAGE("skipped: gnuplot is not on PATH");
    return;
  }
  TempDir tmp;
  const auto dir = tmp.path / "pp report"; // a space: the command must quote it
  const std::vector<std::string> given{
      "report", "--model", "llama-3.1-70b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "4",
      "--pp", "2", "--weight-dtype", "fp8", "--kv-dtype", "fp8", "--batch", "32",
      "--input-len", "1024", "--output-len", "128", "--out", dir.string()};
  const Run r = run_rooftop(given, tmp.path);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(dir / "report.html");
  CHECK(input(html, "GPUs and mapping").rfind("8 GPUs: TP=4, PP=2, CP=1, EP=1, DP=1", 0) == 0);
  CHECK(input(html, "pipeline").rfind("2 stages, 2 micro-batches of 16 sequences", 0) == 0);
  CHECK(input(html, "system").find(" x hgx-h100") != std::string::npos);
  // The breakdown adds the pipeline wait, and the phase times are TTFT and TPOT.
  int waits = 0;
  for (const auto &row : table_rows(html, "breakdown")) waits += row.at(1) == "pipeline wait";
  CHECK(waits >= 1);
  CHECK(slurp(dir / "gnuplot" / "breakdown.gp").find("\"pipeline wait\"") != std::string::npos);
  // Operators carry their stage: both stages are listed.
  int stage1 = 0;
  for (const auto &row : table_rows(html, "operators")) stage1 += row.at(1) == "1";
  CHECK(stage1 > 0);
  // The command is the one given, with the directory quoted.
  CHECK(command_of(html) ==
        "rooftop report --model llama-3.1-70b --gpu h100-sxm --gpus 8 --tp 4 --pp 2 "
        "--weight-dtype fp8 --kv-dtype fp8 --batch 32 --input-len 1024 --output-len 128 --out '" +
            dir.string() + "'");
  // No local path of the data directory leaks into the page.
  CHECK(html.find(ROOFTOP_SOURCE_DATA_DIR_FOR_TESTS) == std::string::npos);
  CHECK(input(html, "model").find("data/models/llama-3.1-70b") != std::string::npos);
}

TEST_CASE("report: --system alone, overlap and chunked prefill reproduce, and no empty --gpu") {
  if (!gnuplot_on_path()) {
    MESSAGE("skipped: gnuplot is not on PATH");
    return;
  }
  TempDir tmp;
  const auto dir = tmp.path / "sys";
  const Run r = run_rooftop({"report", "--model", "llama-3.1-8b", "--system", "hgx-h100-8", "--tp",
                             "2", "--overlap-comm", "--max-prefill-tokens", "4096",
                             "--oversubscription", "2", "--out", dir.string()},
                            tmp.path);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(dir / "report.html");
  const std::string cmd = command_of(html);
  CHECK(cmd == "rooftop report --model llama-3.1-8b --system hgx-h100-8 --tp 2 --overlap-comm "
               "--max-prefill-tokens 4096 --oversubscription 2 --out " + dir.string());
  CHECK(cmd.find("--gpu ") == std::string::npos);
  CHECK(input(html, "system").rfind("1 node x hgx-h100-8", 0) == 0);
  CHECK(input(html, "collectives").rfind("overlapped with compute", 0) == 0);
  CHECK(input(html, "chunked prefill").rfind("4096 tokens per pass", 0) == 0);
}

TEST_CASE("report: MoE expert parallelism lists its all-to-all collectives") {
  if (!gnuplot_on_path()) {
    MESSAGE("skipped: gnuplot is not on PATH");
    return;
  }
  TempDir tmp;
  const auto dir = tmp.path / "ep";
  const Run r = run_rooftop({"report", "--model", "deepseek-v3", "--gpu", "h200-sxm", "--tp", "1",
                             "--gpus", "8", "--ep", "8", "--out", dir.string()},
                            tmp.path);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(dir / "report.html");
  CHECK(input(html, "GPUs and mapping").find("EP=8") != std::string::npos);
  // phase, stage, name, collective, group, ranks, ranks per domain, algorithm, protocol, calls,
  // bytes per call, time
  int all_to_all = 0;
  for (const auto &row : table_rows(html, "collectives")) {
    REQUIRE(row.size() == 12);
    if (row[3] != "all-to-all") continue;
    ++all_to_all;
    CHECK(row[4] == "ep");
    CHECK(row[5] == "8");
    CHECK(row[6] == "8");
    CHECK(!row[7].empty());
    CHECK(row[8] == "-"); // NCCL's tuner does not cost all-to-all: no protocol
  }
  CHECK(all_to_all >= 4); // dispatch and combine, prefill and decode
}

TEST_CASE("report: --out '' is refused (exit 2)") {
  TempDir tmp;
  const Run r = run_rooftop({"report", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--out", ""},
                            tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: --out is empty", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

TEST_CASE("report: --out names a file, or a directory it cannot write in: exit 2, says so") {
  TempDir tmp;
  std::ofstream(tmp.path / "a-file") << "x";
  Run r = run_rooftop({"report", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--out",
                       (tmp.path / "a-file").string()},
                      tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("exists and is not a directory") != std::string::npos);
  if (!gnuplot_on_path()) return; // the gnuplot check comes first
  // An existing directory without write permission (as root: run as nobody, to whom a
  // root-owned 0755 directory is read-only).
  const bool root = geteuid() == 0;
  const auto ro = tmp.path / "read-only";
  fs::create_directories(ro);
  fs::permissions(tmp.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(ro, root ? fs::perms::owner_all | fs::perms::group_read |
                                 fs::perms::group_exec | fs::perms::others_read |
                                 fs::perms::others_exec
                           : fs::perms::owner_read | fs::perms::owner_exec);
  r = run_rooftop({"report", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--out", ro.string()},
                  tmp.path, nullptr, root);
  fs::permissions(ro, fs::perms::owner_all);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: --out " + ro.string() + ": cannot write there", 0) == 0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

TEST_CASE("report: a failing gnuplot gives one error line with its message, exit 3") {
  TempDir tmp;
  const auto bin = tmp.path / "bin";
  const std::string path = bin.string() + ":/usr/bin:/bin";
  auto args = k_args;
  args.insert(args.end(), {"--out", (tmp.path / "out").string()});
  fake_gnuplot(bin, "echo '\"roofline.gp\" line 7: undefined variable: oops' >&2\nexit 1\n");
  Run r = run_rooftop(args, tmp.path, path.c_str());
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("error: gnuplot failed: \"roofline.gp\" line 7: undefined variable: oops", 0) ==
        0);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(r.err.find("internal") == std::string::npos);
  // Silent and failing: it still says what happened.
  fake_gnuplot(bin, "exit 4\n");
  r = run_rooftop(args, tmp.path, path.c_str());
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("error: gnuplot failed: it printed nothing", 0) == 0);
  CHECK(r.err.find("exited with status 4") != std::string::npos);
  // Succeeding without drawing anything.
  fake_gnuplot(bin, "exit 0\n");
  r = run_rooftop(args, tmp.path, path.c_str());
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("error: gnuplot exited normally but wrote no SVG", 0) == 0);
}

TEST_CASE("report: bad options are refused like estimate's") {
  TempDir tmp;
  const Run r = run_rooftop({"report", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp", "0",
                             "--out", (tmp.path / "x").string()},
                            tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: --tp = 0", 0) == 0);
}

TEST_CASE("validate --serving --png: a parity plot of the throughput rows, and --png alone is refused") {
  TempDir tmp;
  const auto png = tmp.path / "serving.png";
  const Run r = run_rooftop({"validate", "--serving", "--png", png.string()}, tmp.path);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  if (!gnuplot_on_path()) {
    MESSAGE("gnuplot is not on PATH: checking the error path only (apt-get install gnuplot-nox)");
    CHECK(r.exit_code == 3);
    CHECK(r.err.rfind("error: gnuplot not found", 0) == 0);
  } else {
    REQUIRE(r.exit_code == 0);
    CHECK(png_size(png) == std::array<std::uint32_t, 2>{900, 700});
    CHECK(r.out.find("median |error|") != std::string::npos); // the table still prints
  }
  const Run bad = run_rooftop({"validate", "--serving", "--png", "/nonexistent-dir/x.png"}, tmp.path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("not a writable directory") != std::string::npos);
  const Run alone = run_rooftop({"validate", "--png", png.string()}, tmp.path);
  CHECK(alone.exit_code == 2);
  CHECK(alone.err.find("--png goes with --calibration FILE or --serving") != std::string::npos);
}
