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
#ifdef ROOFTOP_SOURCE_DATA_DIR
  if (fs::is_directory(ROOFTOP_SOURCE_DATA_DIR)) return fs::path(ROOFTOP_SOURCE_DATA_DIR);
#endif
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const auto &cand : {exe.parent_path() / ".." / "data", exe.parent_path() / "data",
                             exe.parent_path() / ".." / "share" / "rooftop" / "data"})
      if (fs::is_directory(cand)) return fs::weakly_canonical(cand);
  }
  throw InputError("cannot find rooftop's data directory: set ROOFTOP_DATA_DIR");
}

} // namespace rooftop
