// Scaling SI values for people.
#include "reports/format.hpp"

#include <fmt/format.h>

#include <cmath>

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

std::string time(Seconds t) {
  const double s = t.value();
  if (std::fabs(s) >= 1.0) return fmt::format("{:.3f} s", s);
  if (std::fabs(s) >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.2f} us", s * 1e6);
}

std::string version() { return ROOFTOP_VERSION; }
std::string git_sha() { return ROOFTOP_GIT_SHA; }

} // namespace rooftop::rep
