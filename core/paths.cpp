// Data-directory discovery.
#include "core/paths.hpp"

#include "core/errors.hpp"

#include <cstdlib>
#include <system_error>

namespace rooftop {

std::filesystem::path data_dir() {
  namespace fs = std::filesystem;
  if (const char *env = std::getenv("ROOFTOP_DATA_DIR"); env && *env) {
    if (!fs::is_directory(env))
      throw InputError(std::string("ROOFTOP_DATA_DIR=") + env + ": not a directory");
    return fs::path(env);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // An installed (and possibly relocated) tree, `cmake --install`: <prefix>/bin/rooftop and
  // <prefix>/share/rooftop/data. It comes before the source tree so that a copy of an install
  // never reads a different checkout's data.
  if (const auto installed = exe.parent_path() / ".." / "share" / "rooftop" / "data";
      !ec && fs::is_directory(installed))
    return fs::weakly_canonical(installed);
#ifdef ROOFTOP_SOURCE_DATA_DIR
  if (fs::is_directory(ROOFTOP_SOURCE_DATA_DIR)) return fs::path(ROOFTOP_SOURCE_DATA_DIR);
#endif
  if (!ec) {
    for (const auto &cand : {exe.parent_path() / ".." / "data", exe.parent_path() / "data"})
      if (fs::is_directory(cand)) return fs::weakly_canonical(cand);
  }
  throw InputError("cannot find rooftop's data directory: set ROOFTOP_DATA_DIR");
}

} // namespace rooftop
