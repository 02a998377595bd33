// NCCL's tuner constants (rooftop.nccl_tuning/1): the per-protocol latencies and bandwidth limits
// of NCCL's own cost model (src/graph/tuning.cc) and the rules its topology search uses to pick a
// ring's channels (src/graph/search.cc), copied from one NCCL release.
#pragma once

#include "core/units.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/links.hpp"

#include <array>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rooftop::hw {

/// NCCL's protocols, in NCCL's order (src/include/device.h): LL (8-byte stores carrying a flag:
/// half the bandwidth, lowest latency), LL128 (120 of every 128 bytes), Simple (full bandwidth,
/// highest latency).
enum class NcclProtocol { ll, ll128, simple };
/// NCCL's names: "LL", "LL128", "Simple".
std::string to_string(NcclProtocol p);
/// The algorithms rooftop costs per protocol (NVLS runs Simple only; its latency is links.json's).
enum class NcclAlgorithm { tree, ring };
/// The rows of NCCL's hardware latency table: what carries one step.
enum class NcclFabric { nvlink, pci, net };
std::string to_string(NcclFabric f);
/// NCCL's GPU generation index (compCapIndex): Volta, Ampere, Hopper, Blackwell and later.
enum class NcclGeneration { volta, ampere, hopper, blackwell };

/// One value per protocol, indexed by NcclProtocol.
template <class T> using PerProtocol = std::array<T, 3>;
/// One value per node-count column of NCCL's tables: 1 node, 2 nodes, more.
using PerNodes = std::array<BytesPerSecond, 3>;
/// One value per NcclGeneration.
template <class T> using PerGeneration = std::array<T, 4>;
/// Channel speeds NCCL's search tries, per channel, bytes/s: [before sm90, sm90, sm100 and later].
using SpeedArrays = std::array<std::vector<BytesPerSecond>, 3>;

/// The constants of NCCL's tuner. Bandwidths are bus bandwidths (nccl-tests busbw), bytes/s.
struct NcclTuning {
  std::string version;                                            ///< NCCL release, e.g. "2.30.7-1"
  std::string commit;                                             ///< its git commit
  std::string file;                                               ///< where it was loaded from
  std::array<PerProtocol<Seconds>, 2> base_latency;               ///< [algorithm][protocol], s
  std::array<std::array<PerProtocol<Seconds>, 2>, 3> hop_latency; ///< [fabric][algorithm][protocol]
  PerGeneration<BytesPerSecond> ll_max_one_node;   ///< LL's bus bandwidth cap on one node
  BytesPerSecond ll_max_two_nodes;                 ///< ... on 2 nodes (Intel / non-x86 hosts)
  BytesPerSecond ll_max_more_nodes;                ///< ... on more nodes
  PerGeneration<PerNodes> per_channel_ring_ll128;  ///< cap per ring channel with LL128, bytes/s
  PerGeneration<PerNodes> per_channel_tree;        ///< cap per tree channel (all-reduce), bytes/s
  PerGeneration<PerNodes> per_channel_tree_ll128;  ///< cap per tree channel with LL128, bytes/s
  double ring_ll_fraction = 0.5;                   ///< ring LL's share of the bus bandwidth
  double ring_ll128_fraction = 0.92;               ///< ring LL128's share
  double tree_fraction = 0.92;                     ///< an all-reduce tree's share (every protocol)
  double tree_ll_fraction = 1 / 3.8;               ///< then tree LL's share of that
  double tree_ll128_fraction_one_node = 7.0 / 9.0; ///< then tree LL128's, one node
  double tree_ll128_fraction_more_nodes = 120.0 / 128.0; ///< ... several nodes
  double tree_one_gpu_per_node_fraction = 0.85;          ///< then a tree's with one GPU per node
  PerProtocol<std::vector<double>> tree_correction;      ///< [protocol][floor(log2(bytes / 64))]
  Seconds net_overhead;                                  ///< per network post, s
  double net_overhead_simple_factor = 3;                 ///< Simple posts cost this many times more
  double ring_simple_plateau_before_sm80 = 1.9;          ///< multi-node ring Simple latency factor
  double ring_simple_plateau = 1.4;                      ///< ... compute capability >= 8.0
  SpeedArrays speeds_intra;                              ///< channel speeds tried inside a node
  SpeedArrays speeds_inter;                              ///< ... across nodes
  int max_ring_channels = 32;                            ///< channels a ring search may find
  double next_speed_min_ratio = 0.49;        ///< a lower speed is tried while > this x the best
  BytesPerSecond duplicate_min;              ///< channels are doubled at half speed from this speed
  BytesPerSecond duplicate_after_sm80_min;   ///< after sm80: only from this speed ...
  int duplicate_after_sm80_max_channels = 4; ///< ... or with at most this many channels
  std::map<std::string, std::string> sources; ///< JSON pointer -> citation
};

/// Loads a rooftop.nccl_tuning/1 file. Throws InputError naming file and field.
NcclTuning load_nccl_tuning(const std::filesystem::path &file);
/// data/hardware/nccl_tuning.json.
const NcclTuning &builtin_nccl_tuning();

/// The compute capability NCCL sees, x10 (sm 9.0 -> 90): NCCL indexes its tables by it. Rubin's
/// is not published; NCCL treats anything >= 100 as its newest generation, so 100 is used.
/// Throws NotSupported for a CPU.
int nccl_compute_capability(Architecture a);
/// NCCL's generation index for a compute capability (tuning.cc compCapIndex).
NcclGeneration nccl_generation(int compute_capability);
/// The latency row of a link's steps: NVLink, NVSwitch and NVLink-C2C -> nvlink, PCIe -> pci,
/// InfiniBand and Ethernet -> net.
NcclFabric nccl_fabric(const LinkSpec &link);

} // namespace rooftop::hw
