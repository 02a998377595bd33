// Systems (a node of GPUs with its scale-up domain, NICs and CPU link) and clusters of them.
#pragma once

#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/links.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::hw {

/// How the GPUs of one scale-up domain are connected.
enum class Topology { nvswitch, p2p, pcie };
std::string to_string(Topology t);

/// One node (a server, or a rack for NVL72), loaded from rooftop.system/1.
struct SystemSpec {
  std::string id;
  std::string name;
  std::string gpu;                 ///< GPU id in the GPU catalogue
  Architecture gpu_architecture = Architecture::hopper; ///< that GPU's (NCCL's tables use it)
  long long gpus_per_node = 0;
  Topology topology = Topology::nvswitch;
  LinkSpec scale_up_link;          ///< each GPU's link into the domain (one way, per GPU)
  long long domain_gpus = 0;       ///< GPUs sharing one NVLink/NVSwitch/PCIe domain
  std::optional<LinkSpec> switch_link; ///< the NVSwitch (in-switch reduction), nvswitch only
  LinkSpec nic;                    ///< scale-out NIC (one port)
  double nics_per_gpu = 0;         ///< NIC ports per GPU (may be fractional on PCIe servers)
  LinkSpec cpu_link;               ///< PCIe generation or NVLink-C2C
  std::map<std::string, std::string> sources;
  std::vector<std::string> notes;
  std::string file;

  /// Scale-up bandwidth of one GPU, one way, bytes/s (all its links together).
  [[nodiscard]] BytesPerSecond scale_up_bandwidth() const { return scale_up_link.bandwidth_one_way; }
  /// Without a switch a GPU splits its bandwidth over its peers: B / (domain - 1) per pair.
  [[nodiscard]] BytesPerSecond pair_bandwidth() const;
  /// Scale-out bandwidth of one GPU, one way, bytes/s: NIC port x ports per GPU.
  [[nodiscard]] BytesPerSecond scale_out_bandwidth() const {
    return nic.bandwidth_one_way * nics_per_gpu;
  }
  /// NVSwitch with NVLink SHARP: all-reduce can reduce inside the switch.
  [[nodiscard]] bool in_switch_reduction() const {
    return switch_link && switch_link->in_switch_reduction;
  }
};

/// Loads one rooftop.system/1 file; link ids resolve against `links`, the GPU id against `gpus`.
SystemSpec load_system(const std::filesystem::path &file, const std::vector<LinkSpec> &links,
                       const GpuCatalogue &gpus);

/// All systems of data/hardware/systems/, by id.
class SystemCatalogue {
public:
  static SystemCatalogue load(const std::filesystem::path &dir, const std::vector<LinkSpec> &links,
                              const GpuCatalogue &gpus);
  static const SystemCatalogue &builtin();
  /// Throws InputError naming the id and listing the known ones.
  [[nodiscard]] const SystemSpec &get(const std::string &id) const;
  [[nodiscard]] const std::map<std::string, SystemSpec> &all() const { return systems_; }
  /// Whether some system holds GPU `gpu_id` (else cluster_for_gpu makes it a one-server system).
  [[nodiscard]] bool holds(const std::string &gpu_id) const;
  /// The usual system for a GPU: among the systems holding it, the one with the largest
  /// scale-up domain (HGX 8-GPU for SXM parts, NVL72 for gb200). Throws InputError when none.
  [[nodiscard]] const SystemSpec &default_for_gpu(const std::string &gpu_id) const;

private:
  std::map<std::string, SystemSpec> systems_;
};

/// `nodes` systems on a rail-optimised fat tree: GPU i of every node shares a leaf ("rail");
/// traffic that leaves a rail crosses the spine, whose bandwidth is divided by the
/// oversubscription ratio (1 = non-blocking). Nothing is materialised per GPU: a 100,000-GPU
/// cluster costs the same to build as one node.
struct Cluster {
  SystemSpec system;
  long long nodes = 1;
  double oversubscription = 1.0; ///< spine bandwidth divisor (>= 1)

  [[nodiscard]] long long gpus() const { return system.gpus_per_node * nodes; }
};

/// Throws InputError when nodes < 1 or oversubscription < 1.
Cluster make_cluster(const SystemSpec &system, long long nodes, double oversubscription = 1.0);

/// The most GPUs of a kind no system lists that one server holds (cluster_for_gpu): NVIDIA's
/// PCIe server reference designs hold 4 or 8 (Enterprise RA "PCIe Optimized 2-4-3" and "2-8-5",
/// https://docs.nvidia.com/ai-enterprise/reference-architecture/latest/compute-node-hardware.html).
inline constexpr long long k_max_standalone_gpus = 8;

/// Why more than k_max_standalone_gpus of `gpu` (which no system holds) are refused, for an
/// error message: "no system in data/hardware/systems holds h100-pcie, and one server of them
/// holds at most 8 (...)".
std::string standalone_limit(const GpuSpec &gpu);

/// `gpus` GPUs of one kind in their usual system (an HGX board for SXM parts, an NVL72 rack for
/// gb200, ...), spilling over as many nodes as needed. A GPU no system lists (e.g. a PCIe card)
/// gets a one-node system whose GPUs share its scale-up path (NVLink, else PCIe) for groups of
/// `group` GPUs (a PCIe card's NVLink bridge serves pairs only); InputError for more than
/// k_max_standalone_gpus of them.
Cluster cluster_for_gpu(const GpuSpec &gpu, long long gpus, long long group = 0);

} // namespace rooftop::hw
