// Point-to-point links (PCIe for now) from rooftop.links/1, and the scale-up path of a GPU.
#pragma once

#include "core/units.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::hw {

/// One link type.
struct LinkSpec {
  std::string id;                   ///< e.g. "pcie-gen5-x16"
  std::string kind;                 ///< "pcie"
  int generation = 0;
  int lanes = 0;
  BytesPerSecond bandwidth_one_way; ///< one direction, bytes/s
  Seconds latency;                  ///< one hop, s
  std::string source;
};

/// All links of a rooftop.links/1 file. Throws InputError naming file and field.
std::vector<LinkSpec> load_links(const std::filesystem::path &file);
/// The links of data/hardware/links.json.
const std::vector<LinkSpec> &builtin_links();

/// The path GPUs of one kind use to talk to each other inside a node.
struct ScaleUpPath {
  std::string name;                 ///< "NVLink 4" or "PCIe gen5 x16"
  BytesPerSecond bandwidth_one_way; ///< per GPU, one direction, bytes/s
  Seconds latency;                  ///< per hop, s
};

/// NVLink when the GPU has it (its one-way half of the bidirectional figure), else its PCIe link.
/// A PCIe card's NVLink bridge joins 2 GPUs only: larger groups fall back to PCIe.
ScaleUpPath scale_up_path(const GpuSpec &gpu, long long group_size);

} // namespace rooftop::hw
