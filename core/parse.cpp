// Command-line quantity parsing.
#include "core/parse.hpp"

#include "core/errors.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace rooftop {
namespace {

using u64 = std::uint64_t; // every product below is taken only while <= 2^50, so x 10 fits

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

/// A unit: 10^power bytes (decimal prefixes) or 2^power bytes (binary ones).
struct Unit {
  const char *name;
  int power;   ///< k in 10^k or 2^k
  bool binary; ///< 2^power instead of 10^power
};
constexpr std::array<Unit, 11> k_units{{{"", 0, false},
                                        {"B", 0, false},
                                        {"kB", 3, false},
                                        {"KB", 3, false},
                                        {"MB", 6, false},
                                        {"GB", 9, false},
                                        {"TB", 12, false},
                                        {"KiB", 10, true},
                                        {"MiB", 20, true},
                                        {"GiB", 30, true},
                                        {"TiB", 40, true}}};

/// x * 10^k, or 0 when it exceeds `limit` (x > 0). Never overflows: stops above the limit.
u64 scale10(u64 x, int k, u64 limit) {
  for (int i = 0; i < k; ++i) {
    if (x > limit) return 0;
    x *= 10;
  }
  return x > limit ? 0 : x;
}

} // namespace

Bytes parse_bytes(const std::string &text, const std::string &option) {
  const auto bad = [&](const std::string &why) {
    return InputError(option + " = '" + text + "': " + why +
                      " (expected a whole number of bytes from 1 to 2^50 = 1 PiB, with an optional "
                      "unit B, kB, MB, GB, TB, KiB, MiB, GiB or TiB: 4096, 1e9, 256MiB, 1GiB)");
  };
  // Spaces may stand between the number and its unit, nowhere else: "12 " is not 12 bytes.
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (!text.empty() && (space(text.front()) || space(text.back())))
    throw bad("leading or trailing whitespace");
  // Number: [+|-] digits [. digits] [e|E [+|-] digits]; at least one digit before the exponent.
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string mantissa; // the digits, without the point
  int fraction_digits = 0;
  bool point = false;
  for (; i < text.size() && (is_digit(text[i]) || (text[i] == '.' && !point)); ++i) {
    if (text[i] == '.') point = true;
    else {
      mantissa += text[i];
      fraction_digits += point ? 1 : 0;
    }
  }
  if (mantissa.empty()) throw bad("not a size");
  long long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    const bool neg_exp = j < text.size() && text[j] == '-';
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (j == text.size() || !is_digit(text[j])) throw bad("not a size");
    for (; j < text.size() && is_digit(text[j]); ++j)
      if (exponent < 100000) exponent = exponent * 10 + (text[j] - '0');
    exponent = neg_exp ? -exponent : exponent;
    i = j;
  }
  while (i < text.size() && text[i] == ' ') ++i;
  const std::string unit_text = text.substr(i);
  const Unit *unit = nullptr;
  for (const auto &u : k_units)
    if (unit_text == u.name) unit = &u;
  if (!unit) throw bad("unknown unit '" + unit_text + "'");
  // Exact value: D x 10^E, D without leading or trailing zeros.
  const std::size_t first = mantissa.find_first_not_of('0');
  if (first == std::string::npos || negative) throw bad("must be at least 1 byte");
  const std::size_t last = mantissa.find_last_not_of('0');
  const std::string sig = mantissa.substr(first, last - first + 1);
  exponent += static_cast<long long>(mantissa.size() - 1 - last) - fraction_digits;
  if (sig.size() > 19) throw bad("more significant digits than a byte count up to 2^50 has");
  const u64 digits = std::stoull(sig);
  const int e10 = static_cast<int>(exponent); // |exponent| < 10^5 + the text's length
  const auto limit = static_cast<u64>(k_max_parsed_bytes);
  const auto too_large = [&] { return bad("more than 2^50 bytes"); };
  u64 bytes = 0;
  if (!unit->binary) {
    const int e = e10 + unit->power;
    if (e < 0) throw bad("not a whole number of bytes"); // D has no factor 10 left to absorb it
    if (e > 16) throw too_large();
    bytes = scale10(digits, e, limit);
  } else {
    // D x 10^E x 2^P = D x 5^E x 2^(E+P): a whole number when 5^-E divides D (E < 0) and the
    // power of two left over is not negative.
    u64 x = digits;
    int twos = e10 + unit->power;
    if (e10 < 0) {
      for (int k = 0; k < -e10; ++k) {
        if (x % 5 != 0) throw bad("not a whole number of bytes");
        x /= 5;
      }
    } else {
      if (e10 > 16) throw too_large();
      for (int k = 0; k < e10 && x <= limit; ++k) x *= 5;
    }
    for (; twos < 0; ++twos) {
      if (x % 2 != 0) throw bad("not a whole number of bytes");
      x /= 2;
    }
    for (; twos > 0 && x <= limit; --twos) x *= 2;
    bytes = x > limit ? 0 : x;
  }
  if (bytes == 0) throw too_large();
  return Bytes(static_cast<double>(bytes));
}

} // namespace rooftop
