// CLI tests of `rooftop report`: the directory it writes (report.html with the plots inline, PNGs
// of the expected size) and its one-line error when gnuplot is missing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
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

struct Run {
  int exit_code = -1; ///< -1 when it did not exit normally
  std::string out, err;
};

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A temporary directory removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "rooftop_report_XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
};

/// Runs ROOFTOP_BINARY with `args`; `path_env`, when given, replaces $PATH.
Run rooftop(const std::vector<std::string> &args, const fs::path &tmp,
            const char *path_env = nullptr) {
  std::vector<std::string> storage{ROOFTOP_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (auto &s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const auto out = tmp / "stdout", err = tmp / "stderr";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    if (path_env) setenv("PATH", path_env, 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Run r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

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

const std::vector<std::string> k_args{"report", "--model", "llama-3.1-70b", "--gpu", "h100-sxm",
                                      "--gpus", "4", "--tp", "4", "--weight-dtype", "fp8",
                                      "--kv-dtype", "fp8", "--batch", "32"};

} // namespace

TEST_CASE("report: report.html with four inline SVG plots and four PNGs of the expected size") {
  TempDir tmp;
  auto args = k_args;
  const auto dir = tmp.path / "out";
  args.insert(args.end(), {"--out", dir.string()});
  const Run r = rooftop(args, tmp.path);
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
  const Run r = rooftop(args, tmp.path, (tmp.path / "empty-bin").c_str());
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
  const Run r = rooftop({"report", "--model", "llama-3.1-405b", "--gpu", "h100-sxm", "--out",
                         dir.string()},
                        tmp.path);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: llama-3.1-405b does not fit", 0) == 0);
  const std::string html = slurp(dir / "report.html");
  CHECK(html.find("id=\"out-of-memory\"") != std::string::npos);
  CHECK(count(html, "<svg") == 4);
  CHECK(png_size(dir / "memory.png")[0] == 1100);
}

TEST_CASE("report: bad options are refused like estimate's") {
  TempDir tmp;
  const Run r = rooftop({"report", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp", "0",
                         "--out", (tmp.path / "x").string()},
                        tmp.path);
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("error: --tp = 0", 0) == 0);
}
