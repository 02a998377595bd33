// Links (PCIe, NVLink, NVSwitch, NVLink-C2C, InfiniBand, Ethernet) from rooftop.links/1, and
// the scale-up path of a GPU.
#pragma once

#include "core/units.hpp"
#include "hwmodels/gpu_spec.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::hw {

/// One link type.
struct LinkSpec {
  /// A link of `kind` with a one-way bandwidth and per-hop latency (tests and synthetic systems).
  static LinkSpec make(std::string id, std::string kind, BytesPerSecond bw, Seconds latency,
                       bool in_switch = false) {
    LinkSpec l;
    l.id = std::move(id);
    l.kind = std::move(kind);
    l.bandwidth_one_way = bw;
    l.latency = latency;
    l.in_switch_reduction = in_switch;
    return l;
  }
  std::string id;                   ///< e.g. "pcie-gen5-x16"
  std::string kind;                 ///< pcie | nvlink | nvswitch | c2c | infiniband | ethernet
  int generation = 0;               ///< 0 when not applicable
  int lanes = 0;                    ///< PCIe only
  int links = 0;                    ///< NVLink only: links per GPU that bandwidth_one_way sums
                                    ///< (0: not published)
  BytesPerSecond bandwidth_one_way; ///< one direction, bytes/s (per GPU, or per NIC port)
  Seconds latency;                  ///< one hop, s
  bool in_switch_reduction = false; ///< NVSwitch with NVLink SHARP (NVLS)
  Seconds in_switch_latency;        ///< fixed latency of an in-switch reduction, s
  std::string source;
  std::string where;                ///< file and JSON pointer it was read from (for messages)
};

/// The link with this id in `links`. Throws InputError naming `where` and listing the ids.
const LinkSpec &find_link(const std::vector<LinkSpec> &links, const std::string &id,
                          const std::string &where);

/// All links of a rooftop.links/1 file. Throws InputError naming file and field.
std::vector<LinkSpec> load_links(const std::filesystem::path &file);
/// The links of data/hardware/links.json.
const std::vector<LinkSpec> &builtin_links();

/// Checks that a GPU's NVLink figure agrees with a link entry. The GPU stores its bandwidth
/// bidirectional (both directions summed, per GPU, as datasheets quote it); links.json stores
/// one way per GPU for `links` links. They agree when
///   bandwidth_bidirectional = 2 x bandwidth_one_way x gpu links / entry links
/// (the link ratio is 1 when either count is not published). Throws InputError naming both
/// files and fields, with both figures and the convention.
void check_nvlink_against(const GpuSpec &gpu, const LinkSpec &link);
/// The same against the NVLink entry of the GPU's generation in `links`; a GPU without NVLink
/// passes. Throws InputError when links has no entry for that generation.
void check_nvlink(const GpuSpec &gpu, const std::vector<LinkSpec> &links);

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
