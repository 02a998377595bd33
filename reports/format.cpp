// Scaling SI values for people.
#include "reports/format.hpp"

#include "core/errors.hpp"
#include "core/paths.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace rooftop::rep {
namespace {

std::string scaled(double v, const char *unit) {
  static const char *prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  double a = std::fabs(v);
  while (a >= 1000.0 && i < 6) {
    a /= 1000.0;
    v /= 1000.0;
    ++i;
  }
  return fmt::format("{:.{}f} {}{}", v, a >= 100 ? 1 : 2, prefixes[i], unit);
}

} // namespace

std::string gb(Bytes b) { return fmt::format("{:.2f} GB", b.value() / 1e9); }
std::string bytes(Bytes b) { return scaled(b.value(), "B"); }
std::string flops(Flops f) { return scaled(f.value(), "FLOP"); }
std::string flops_rate(FlopsPerSecond p) { return scaled(p.value(), "FLOP/s"); }
std::string bandwidth(BytesPerSecond bw) { return scaled(bw.value(), "B/s"); }
std::string params(double n) { return fmt::format("{:.2f} B", n / 1e9); }
std::string percent(double f) { return fmt::format("{:.1f}%", 100.0 * f); }

std::string significant(double v) {
  if (v == 0 || !std::isfinite(v)) return fmt::format("{}", v);
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(v))));
  return fmt::format("{:.{}f}", v, std::max(0, 2 - magnitude));
}

std::string counted(long long n, const std::string &noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string time(Seconds t) {
  const double s = t.value();
  if (std::fabs(s) >= 1.0) return fmt::format("{:.3f} s", s);
  if (std::fabs(s) >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.2f} us", s * 1e6);
}

std::string shell_quote(const std::string &arg) {
  const bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           (c != '\0' && std::strchr("_@%+=:,./-", c) != nullptr);
  });
  if (plain) return arg;
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string shell_command(const std::vector<std::string> &argv) {
  std::string c;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string &a = argv[i];
    std::string word = i == 0 ? std::filesystem::path(a).filename().string() : a;
    const bool option = a.rfind("--", 0) == 0 && a.size() > 2;
    if (option && a.back() == '=') continue;                  // --gpu=
    if (option && a.find('=') == std::string::npos && i + 1 < argv.size() &&
        argv[i + 1].empty()) { // --gpu ''
      ++i;
      continue;
    }
    c += (c.empty() ? "" : " ") + shell_quote(word);
  }
  return c;
}

std::string data_relative(std::string text) {
  std::vector<std::string> dirs;
  try {
    const auto d = data_dir().lexically_normal();
    dirs.push_back(d.string());
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(d, ec);
    if (!ec) dirs.push_back(canonical.string());
  } catch (const InputError &) {
    return text;
  }
  for (auto dir : dirs) {
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    if (dir.empty()) continue;
    dir += '/';
    for (auto i = text.find(dir); i != std::string::npos; i = text.find(dir, i + 5))
      text.replace(i, dir.size(), "data/");
  }
  return text;
}

std::string version() { return ROOFTOP_VERSION; }
std::string git_sha() { return ROOFTOP_GIT_SHA; }

} // namespace rooftop::rep
