// Parsing quantities with units from the command line.
#pragma once

#include "core/units.hpp"

#include <string>

namespace rooftop {

/// The largest size parse_bytes accepts: 1 PiB = 2^50 bytes. Every whole number of bytes up to
/// it is exact in a double (exact up to 2^53), and it is far beyond any message or array a GPU
/// holds.
inline constexpr double k_max_parsed_bytes = 1125899906842624.0;

/// "1GiB", "256 MiB", "1e9", "4096", "8B", "2GB", "64KiB", "1.5KiB": a decimal number (digits,
/// an optional fraction and exponent), optionally a space, then an optional unit: B, decimal
/// (kB or KB, MB, GB, TB = 10^3k bytes) or binary (KiB, MiB, GiB, TiB = 2^10k bytes) prefixes;
/// a bare number is bytes; no whitespace before the number or after the end. The value must be
/// a whole number of bytes, exactly (the decimal text is checked, not its rounded double), from
/// 1 to k_max_parsed_bytes. Throws InputError naming `option` and the text for anything else
/// (0, -1, nan, inf, 0x10, 1.5, 12abc, 1e30, "12 ").
Bytes parse_bytes(const std::string &text, const std::string &option);

} // namespace rooftop
