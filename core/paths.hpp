// Where rooftop finds its data directory (catalogues, presets, calibrations).
#pragma once

#include <filesystem>

namespace rooftop {

/// The data directory: $ROOFTOP_DATA_DIR if set; else <executable dir>/../share/rooftop/data (an
/// install, wherever it was copied); else the source tree's data/ recorded at build time
/// (ROOFTOP_SOURCE_DATA_DIR) if it exists; else <executable dir>/../data or <executable dir>/data.
/// Throws InputError if none exists.
std::filesystem::path data_dir();

} // namespace rooftop
