// GpuSpec: one GPU's spec-sheet figures (compute, memory, links), loaded from rooftop.gpu/1.
#pragma once

#include "core/dtype.hpp"
#include "core/units.hpp"

#include <filesystem>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::hw {

/// GPU generations; `cpu` marks a host reference (a CPU calibration run), never a catalogue GPU.
enum class Architecture { volta, ampere, ada, hopper, blackwell, blackwell_ultra, rubin, cpu };
std::string to_string(Architecture a);
/// Throws InputError listing the valid names.
Architecture architecture_from_string(const std::string &s);

/// NVLink attachment of one GPU.
struct NvlinkSpec {
  int generation = 0;                   ///< NVLink generation (3, 4, 5, 6)
  int links = 0;                        ///< number of links per GPU (0: not published)
  BytesPerSecond bandwidth_bidirectional; ///< per GPU, both directions summed, bytes/s
  /// One direction: half the bidirectional figure, bytes/s.
  [[nodiscard]] BytesPerSecond one_way() const { return bandwidth_bidirectional * 0.5; }
};

/// PCIe attachment of one GPU.
struct PcieSpec {
  int generation = 0; ///< PCIe generation (3..6)
  int lanes = 0;      ///< lane count (x16 = 16)
};

/// One GPU model. Immutable once loaded; every figure has a source in `sources`.
struct GpuSpec {
  std::string id;          ///< catalogue id, e.g. "h100-sxm"
  std::string name;        ///< marketing name
  Architecture architecture = Architecture::hopper;
  std::string form_factor; ///< sxm | pcie | superchip
  bool preliminary = false; ///< NVIDIA has published only preliminary figures
  // Optional where NVIDIA has not published the figure (e.g. Rubin before launch).
  std::optional<int> sm_count;
  std::optional<Hertz> boost_clock; ///< Hz
  std::optional<double> tdp_w;      ///< board power, W
  std::string memory_type; ///< HBM3, HBM3e, GDDR6, ...
  Bytes memory_capacity;   ///< bytes (datasheet GB x 1e9)
  BytesPerSecond memory_bandwidth; ///< HBM/DRAM bandwidth, bytes/s
  std::optional<Bytes> l2; ///< L2 cache, bytes
  /// Dense peak FLOP/s by format name (fp64, fp64_tensor, fp32, tf32, bf16, fp16, fp8, int8, fp4).
  std::map<std::string, FlopsPerSecond> dense_flops;
  std::optional<NvlinkSpec> nvlink;
  std::optional<PcieSpec> pcie; ///< host link, when PCIe (absent for NVLink-C2C-only parts)
  std::map<std::string, std::string> sources; ///< JSON pointer -> public source
  std::vector<std::string> notes;
  std::string file;        ///< file it was loaded from

private:
  std::optional<std::array<double, 10>> peak_index_; ///< by DType, 0 = no such rate

public:

  /// Dense tensor-core peak for a matrix multiply whose inputs are `t`, FLOP/s; nullopt when the
  /// GPU has no such path (e.g. FP8 on Ampere). int4/mxfp4/fp4 map to the fp4 rate where present.
  [[nodiscard]] std::optional<FlopsPerSecond> matmul_peak(DType t) const;
  /// Indexes dense_flops by DType for matmul_peak (load_gpu does it; call after filling
  /// dense_flops by hand). Without it matmul_peak looks the map up each time.
  void index_peaks();
  /// Peak of the CUDA cores for element-wise FP32 work, FLOP/s.
  [[nodiscard]] FlopsPerSecond vector_peak() const;
};

/// Loads and validates one rooftop.gpu/1 file. Throws InputError naming file and field.
GpuSpec load_gpu(const std::filesystem::path &file);

/// All GPUs of data/hardware/gpus/, by id.
class GpuCatalogue {
public:
  /// Loads every *.json in `dir`; ids must be unique and match the file name.
  static GpuCatalogue load(const std::filesystem::path &dir);
  /// The default catalogue under data_dir().
  static const GpuCatalogue &builtin();
  /// Throws InputError naming the id and listing the known ones.
  [[nodiscard]] const GpuSpec &get(const std::string &id) const;
  [[nodiscard]] const std::map<std::string, GpuSpec> &all() const { return gpus_; }

private:
  std::map<std::string, GpuSpec> gpus_;
};

} // namespace rooftop::hw
