// Running the built `rooftop` binary from a test: its exit status, signal, stdout and stderr.
// Shared by the CLI test executables (test_cli.cpp, test_report_cli.cpp).
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cli_test {

/// What one run of the binary produced.
struct Run {
  int exit_code = -1; ///< -1 when it did not exit normally
  int signal = 0;     ///< the terminating signal, 0 if none
  std::string out;
  std::string err;
};

/// The whole file, byte for byte ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A temporary directory removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "rooftop_test_XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
};

/// Runs ROOFTOP_BINARY with `args` (no shell), stdout and stderr to files in `dir`; `path_env`,
/// when given, replaces $PATH; `as_nobody` runs it as user and group 65534 (when the test runs
/// as root, which permission bits do not stop).
inline Run run_rooftop(const std::vector<std::string> &args, const std::filesystem::path &dir,
                       const char *path_env = nullptr, bool as_nobody = false) {
  std::vector<std::string> storage{ROOFTOP_BINARY};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char *> argv;
  for (auto &s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const auto out = dir / "stdout", err = dir / "stderr";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    if (path_env) setenv("PATH", path_env, 1);
    if (as_nobody && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
      _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  Run r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

/// A refused input: no crash (no signal, not the internal-error code 1), the expected exit code,
/// and stderr is exactly one line that starts with "error:" and names every `needle`.
inline void expect_one_error(const Run &r, int code, const std::vector<std::string> &needles) {
  INFO("stderr: " << r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code != 1);
  CHECK(r.exit_code == code);
  CHECK(r.err.rfind("error:", 0) == 0);
  REQUIRE(!r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1); // one line
  for (const auto &n : needles) {
    INFO("expected on stderr: " << n);
    CHECK(r.err.find(n) != std::string::npos);
  }
}

} // namespace cli_test
