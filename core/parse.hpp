// Parsing quantities with units from the command line.
#pragma once

#include "core/units.hpp"

#include <string>

namespace rooftop {

/// "1GiB", "256 MiB", "1e9", "4096", "8B", "2GB", "64KiB": decimal (kB, MB, GB, TB = 10^3k) and
/// binary (KiB, MiB, GiB, TiB = 2^10k) prefixes; a bare number is bytes. Throws InputError
/// naming `option` for anything else, a negative size or a fraction of a byte.
Bytes parse_bytes(const std::string &text, const std::string &option);

} // namespace rooftop
