// Measured all-reduce times of a serving engine's tensor-parallel all-reduce inside one scale-up
// domain, per group size, and the piecewise alpha-beta curve through them.
#pragma once

#include "core/json_io.hpp"
#include "core/units.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rooftop::hw {

/// The measured times of one group size at increasing message sizes.
struct AllReduceCurve {
  std::vector<double> bytes;  ///< message sizes (the all-reduce buffer), bytes, increasing
  std::vector<double> time_s; ///< the measured time of each, s

  /// Piecewise alpha-beta: between two measured sizes, the line through both (t = a + S / b,
  /// one fixed cost and one bandwidth per segment); below the first size, the first time (the
  /// call's fixed cost); above the last, the last segment extended (its slope, or the last
  /// point's bandwidth when that slope is not positive).
  [[nodiscard]] Seconds time(Bytes size) const;
};

/// An engine's all-reduce curves, by group size (ranks), and where they apply.
struct AllReduceCurves {
  std::map<long long, AllReduceCurve> by_ranks; ///< group size (GPUs) -> its measured curve
  std::string scale_up_link;  ///< links.json id of the domain they were measured in ("nvlink4")
  std::string implementation; ///< what ran, e.g. "vLLM 0.24.0 custom all-reduce, CUDA graph"
  bool off = false; ///< turned off (--allreduce nccl): NCCL's model for every collective

  [[nodiscard]] bool empty() const { return by_ranks.empty(); }
  /// The time of an all-reduce of `size` bytes over `ranks` GPUs of one domain; nullopt when
  /// that group size was not measured.
  [[nodiscard]] std::optional<Seconds> time(long long ranks, Bytes size) const;
};

/// Reads {"scale_up_link": id, "implementation": text, "by_ranks": {"<ranks>": {"message_bytes":
/// [...], "time_s": [...]}}}: ranks >= 2, at least two sizes each, sizes whole, strictly
/// increasing and in [1, 1e15] bytes, times in [1e-12, 3600] s. (That the link is a known
/// NVLink one is checked by the efficiency loader, which knows the links.) Throws InputError naming the file and field.
AllReduceCurves read_allreduce_curves(JsonReader &r);

/// The same as JSON, as read_allreduce_curves reads it.
nlohmann::ordered_json allreduce_curves_json(const AllReduceCurves &c);

} // namespace rooftop::hw
