// Command-line quantity parsing.
#include "core/parse.hpp"

#include "core/errors.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace rooftop {

Bytes parse_bytes(const std::string &text, const std::string &option) {
  const auto bad = [&](const std::string &why) {
    return InputError(option + " = '" + text + "': " + why +
                      " (expected bytes like 4096, 1e9, 256MiB, 1GiB, 2GB)");
  };
  const char *begin = text.c_str();
  char *end = nullptr;
  const double v = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(v)) throw bad("not a size");
  std::string unit(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  static const std::array<std::pair<const char *, double>, 11> units{{
      {"", 1.0},
      {"B", 1.0},
      {"kB", 1e3},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
      {"KiB", 1024.0},
      {"MiB", 1048576.0},
      {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
  }};
  for (const auto &[name, scale] : units) {
    if (unit != name) continue;
    const double bytes = v * scale;
    if (bytes < 1) throw bad("must be at least 1 byte");
    if (std::floor(bytes) != bytes) throw bad("not a whole number of bytes");
    return Bytes(bytes);
  }
  throw bad("unknown unit '" + unit + "'");
}

} // namespace rooftop
