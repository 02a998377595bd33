// GpuSpec: one GPU's spec-sheet figures (compute, memory, links), loaded from rooftop.gpu/1.
#pragma once

#include "core/dtype.hpp"
#include "core/units.hpp"

#include <filesystem>
#include <array>
#include <map>
#include <string_view>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::hw {

/// GPU generations; `cpu` marks a host reference (a CPU calibration run), never a catalogue GPU.
enum class Architecture { volta, ampere, ada, hopper, blackwell, blackwell_ultra, rubin, cpu };
std::string to_string(Architecture a);
/// Throws InputError listing the valid names.
Architecture architecture_from_string(const std::string &s);

/// Which figure a GPU's memory capacity is: the total that nvidia-smi / NVML reports for the
/// card, or the datasheet's round "80 GB" (used only where no reported total is known).
enum class CapacitySource { reported, datasheet };
/// "reported" | "datasheet", as the JSON reports print it.
std::string to_string(CapacitySource s);
/// A phrase for text reports: "nvidia-smi total" | "datasheet figure: no reported total".
std::string capacity_label(CapacitySource s);

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

/// Dense peak FLOP/s by format name. The rates are stored by format, so a lookup by data type is
/// an array read with no separate index: editing a rate after loading cannot leave a stale copy.
class DenseFlops {
public:
  /// The format names, in the order entries() lists them (alphabetical, as the map they
  /// replace iterated).
  static constexpr std::array<std::string_view, 9> formats{
      "bf16", "fp16", "fp32", "fp4", "fp64", "fp64_tensor", "fp8", "int8", "tf32"};

  /// The rate of `format` for writing, FLOP/s (0 = absent until set). Throws InternalError for
  /// a name not in `formats` (the loader reads only those).
  FlopsPerSecond &operator[](std::string_view format);
  /// The rate of `format`, FLOP/s; nullopt when absent or not a format name.
  [[nodiscard]] std::optional<FlopsPerSecond> get(std::string_view format) const;
  /// The rates present, (format, FLOP/s), in `formats` order.
  [[nodiscard]] std::vector<std::pair<std::string, FlopsPerSecond>> entries() const;

  /// Dense tensor-core peak for a matrix multiply whose inputs are `t`, FLOP/s (see
  /// GpuSpec::matmul_peak). Inline: the estimate asks for it once per operator.
  [[nodiscard]] std::optional<FlopsPerSecond> matmul(DType t) const {
    const double r = matmul_rate(t);
    if (r > 0) return FlopsPerSecond(r);
    return std::nullopt;
  }
  /// CUDA-core FP32 rate, else the bf16 rate, FLOP/s.
  [[nodiscard]] FlopsPerSecond vector() const {
    return FlopsPerSecond(rate(fp32) > 0 ? rate(fp32) : rate(bf16));
  }

private:
  enum Format : std::size_t { bf16, fp16, fp32, fp4, fp64, fp64_tensor, fp8, int8, tf32 };
  /// The rate of a format, FLOP/s; 0 when absent.
  [[nodiscard]] double rate(Format f) const { return rates_[f].value(); }
  /// The rate a GEMM with inputs `t` runs at, FLOP/s; 0 when there is none.
  [[nodiscard]] double matmul_rate(DType t) const {
    switch (t) {
    case DType::fp64: return rate(fp64_tensor) > 0 ? rate(fp64_tensor) : rate(fp64);
    case DType::fp32: return rate(fp32);
    case DType::tf32: return rate(tf32);
    case DType::bf16: return rate(bf16);
    case DType::fp16: return rate(fp16) > 0 ? rate(fp16) : rate(bf16);
    case DType::fp8: return rate(fp8);
    case DType::int8: return rate(int8);
    case DType::fp4:
    case DType::mxfp4: return rate(fp4);
    case DType::int4: return 0; // weight-only: no int4 tensor-core path modelled
    }
    return 0;
  }
  std::array<FlopsPerSecond, formats.size()> rates_{};
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
  Bytes memory_datasheet;  ///< datasheet capacity, bytes (datasheet GB x 1e9)
  /// Total memory the driver reports for the card (nvidia-smi "FB Memory Usage: Total", NVML
  /// memory.total), bytes; nullopt where no public report exists (pre-release parts).
  std::optional<Bytes> memory_reported;
  BytesPerSecond memory_bandwidth; ///< HBM/DRAM bandwidth, bytes/s
  std::optional<Bytes> l2; ///< L2 cache, bytes
  /// Dense peak FLOP/s by format name (fp64, fp64_tensor, fp32, tf32, bf16, fp16, fp8, int8, fp4).
  DenseFlops dense_flops;
  std::optional<NvlinkSpec> nvlink;
  std::optional<PcieSpec> pcie; ///< host link, when PCIe (absent for NVLink-C2C-only parts)
  std::map<std::string, std::string> sources; ///< JSON pointer -> public source
  std::vector<std::string> notes;
  std::string file;        ///< file it was loaded from

  /// Dense tensor-core peak for a matrix multiply whose inputs are `t`, FLOP/s; nullopt when the
  /// GPU has no such path (e.g. FP8 on Ampere). int4/mxfp4/fp4 map to the fp4 rate where present.
  [[nodiscard]] std::optional<FlopsPerSecond> matmul_peak(DType t) const {
    return dense_flops.matmul(t);
  }
  /// The memory capacity the model uses: the reported total where known, else the datasheet
  /// figure, bytes.
  [[nodiscard]] Bytes memory_capacity() const {
    return memory_reported ? *memory_reported : memory_datasheet;
  }
  /// Which figure memory_capacity() is.
  [[nodiscard]] CapacitySource capacity_source() const {
    return memory_reported ? CapacitySource::reported : CapacitySource::datasheet;
  }
  /// Peak of the CUDA cores for element-wise FP32 work, FLOP/s.
  [[nodiscard]] FlopsPerSecond vector_peak() const { return dense_flops.vector(); }
};

/// Loads and validates one rooftop.gpu/1 file. Throws InputError naming file and field.
GpuSpec load_gpu(const std::filesystem::path &file);

/// All GPUs of data/hardware/gpus/, by id.
class GpuCatalogue {
public:
  /// Loads every *.json in `dir`; ids must be unique and match the file name.
  static GpuCatalogue load(const std::filesystem::path &dir);
  /// The default catalogue under data_dir(), each GPU's NVLink figure checked against
  /// data/hardware/links.json (check_nvlink). Throws InputError naming file and field.
  static const GpuCatalogue &builtin();
  /// Throws InputError naming the id and listing the known ones.
  [[nodiscard]] const GpuSpec &get(const std::string &id) const;
  [[nodiscard]] const std::map<std::string, GpuSpec> &all() const { return gpus_; }

private:
  std::map<std::string, GpuSpec> gpus_;
};

/// Why a calibration's "gpu" and "architecture" disagree, "" when they agree: the architecture
/// must be a known name, "cpu" exactly when the GPU is "host-cpu" (a CPU run never transfers to
/// a GPU), and the catalogue's architecture for a catalogue GPU id.
std::string measured_on_mismatch(const std::string &gpu, const std::string &architecture);

} // namespace rooftop::hw
