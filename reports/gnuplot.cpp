// gnuplot subprocess and SVG inlining.
#include "reports/gnuplot.hpp"

#include "core/errors.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace rooftop::rep {
namespace {

/// gnuplot's own account of its failure, on one line: the lines of its log that name a script
/// line ("x.gp" line 12: ...) or an error, else its last line; "" when it printed nothing.
std::string log_excerpt(const std::filesystem::path &log) {
  std::ifstream in(log);
  std::string line, errors, last;
  static const std::regex located(R"(line [0-9]+:)");
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    last = line;
    const bool error = std::regex_search(line, located) || line.find("rror") != std::string::npos;
    if (error && errors.size() < 400) errors += (errors.empty() ? "" : "; ") + line;
  }
  return errors.empty() ? last : errors;
}

} // namespace

std::optional<std::filesystem::path> find_gnuplot() {
  const char *path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    const auto cand = std::filesystem::path(dir) / "gnuplot";
    if (access(cand.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(cand)) return cand;
  }
  return std::nullopt;
}

void run_gnuplot(const std::filesystem::path &dir, const std::vector<std::string> &scripts) {
  const auto exe = find_gnuplot();
  if (!exe)
    throw NotCompiled("gnuplot not found on PATH: rooftop draws its plots (`report`, "
                      "`validate --png`) with gnuplot (Debian: apt-get install gnuplot-nox)");
  std::vector<std::string> storage{exe->string()};
  storage.insert(storage.end(), scripts.begin(), scripts.end());
  std::vector<char *> argv;
  for (auto &s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  // The environment with LC_ALL=C (decimal points), built before fork.
  std::vector<std::string> env_storage{"LC_ALL=C"};
  for (char **e = environ; *e; ++e)
    if (std::string(*e).rfind("LC_ALL=", 0) != 0) env_storage.emplace_back(*e);
  std::vector<char *> envp;
  for (auto &s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  const auto log = dir / "gnuplot.log";
  // Opened here, not in the child, so that an unwritable directory is reported as such.
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw InputError(dir.string() + ": cannot write there (" + log.filename().string() +
                     "): " + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    throw GnuplotError("cannot start gnuplot: fork failed");
  }
  if (pid == 0) { // child: only async-signal-safe calls until exec
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || chdir(dir.c_str()) != 0) _exit(126);
    dup2(null_fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(fd);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) throw GnuplotError("gnuplot: waitpid failed");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string how =
      WIFEXITED(status)     ? "exited with status " + std::to_string(WEXITSTATUS(status))
      : WIFSIGNALED(status) ? "was killed by signal " + std::to_string(WTERMSIG(status))
                            : "failed";
  const std::string said = log_excerpt(log);
  throw GnuplotError("gnuplot failed: " + (said.empty() ? "it printed nothing" : said) + " (" +
                     exe->string() + " " + how + "; log: " + log.string() + ")");
}

std::string inline_svg(const std::string &svg, const std::string &prefix) {
  const auto start = svg.find("<svg");
  if (start == std::string::npos) throw InternalError("gnuplot SVG output holds no <svg> element");
  std::string s = svg.substr(start);
  std::set<std::string> ids;
  const std::regex id_re(R"(\bid=['"]([^'"]+)['"])");
  for (auto it = std::sregex_iterator(s.begin(), s.end(), id_re); it != std::sregex_iterator();
       ++it)
    ids.insert((*it)[1].str());
  // One pass over every id definition or reference, rewriting only the ids found above.
  const std::regex ref_re(R"((id=['"]|#)([A-Za-z_][-A-Za-z0-9_.:]*)(?=['")]))");
  std::string out;
  auto last = s.cbegin();
  for (auto it = std::sregex_iterator(s.begin(), s.end(), ref_re); it != std::sregex_iterator();
       ++it) {
    const auto &m = *it;
    out.append(last, m[0].first);
    out += m[1].str();
    if (ids.count(m[2].str())) out += prefix;
    out += m[2].str();
    last = m[0].second;
  }
  out.append(last, s.cend());
  return out;
}

std::string gp_quote(const std::string &s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') q += '\\';
    if (c == '\n') q += "\\n";
    else q += c;
  }
  return q + "\"";
}

} // namespace rooftop::rep
