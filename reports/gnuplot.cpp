// gnuplot subprocess and SVG inlining.
#include "reports/gnuplot.hpp"

#include "core/errors.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace rooftop::rep {
namespace {

/// The first lines of gnuplot's log that mention an error (or its last lines).
std::string log_excerpt(const std::filesystem::path &log) {
  std::ifstream in(log);
  std::string line, errors, last;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (errors.size() < 400 && line.find("rror") != std::string::npos) errors += line + "; ";
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
    throw NotCompiled("gnuplot not found on PATH: `rooftop report` draws its plots with gnuplot "
                      "(Debian: apt-get install gnuplot-nox)");
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
  const pid_t pid = fork();
  if (pid < 0) throw InternalError("cannot start gnuplot: fork failed");
  if (pid == 0) { // child: only async-signal-safe calls until exec
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || null_fd < 0 || chdir(dir.c_str()) != 0) _exit(126);
    dup2(null_fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) throw InternalError("gnuplot: waitpid failed");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InternalError("gnuplot failed (" + log.string() + "): " + log_excerpt(log));
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
