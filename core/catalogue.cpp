// Catalogue directories: their files in order, and ids that match file names.
#include "core/catalogue.hpp"

#include "core/errors.hpp"

#include <algorithm>

namespace rooftop {

std::vector<std::filesystem::path> catalogue_files(const std::filesystem::path &dir,
                                                   const std::string &what) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw InputError(dir.string() + ": " + what + " directory not found");
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(dir))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

void check_id_matches_file(const std::string &id, const std::filesystem::path &file) {
  if (id != file.stem().string())
    throw InputError(file.string() + ": /id = \"" + id + "\": must match the file name '" +
                     file.stem().string() + "'");
}

} // namespace rooftop
