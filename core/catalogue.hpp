// Catalogues of data files: one JSON file per entry in a directory, each entry named by its id.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop {

/// The `*.json` files of `dir`, sorted by name. Throws InputError "<dir>: <what> directory not
/// found" when `dir` is not a directory.
std::vector<std::filesystem::path> catalogue_files(const std::filesystem::path &dir,
                                                   const std::string &what);

/// Throws InputError naming the file and /id unless `id` is the file's name without ".json"
/// (data/hardware/gpus/h100-sxm.json holds "h100-sxm").
void check_id_matches_file(const std::string &id, const std::filesystem::path &file);

/// The keys of a map, comma-separated, for "unknown id: known ids are ..." messages.
template <class Map> std::string known_ids(const Map &m) {
  std::string known;
  for (const auto &entry : m) known += (known.empty() ? "" : ", ") + entry.first;
  return known;
}

} // namespace rooftop
