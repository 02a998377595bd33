// `rooftop collective` and `rooftop system` output, as JSON and text.
#pragma once

#include "hwmodels/efficiency.hpp"
#include "hwmodels/system.hpp"
#include "sim/collective.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace rooftop::rep {

/// What a collective sweep was computed on.
struct CollectiveInputs {
  const hw::Cluster &cluster;
  const sim::Placement &placement;
  const hw::Efficiency &efficiency;
  sim::CollectiveOp op;
};

/// rooftop.collective/1: the inputs, both fabric levels and one row per message size.
nlohmann::ordered_json collective_json(const CollectiveInputs &in,
                                       const std::vector<sim::CollectiveCost> &rows);
/// An nccl-tests-like table (GB/s = 1e9 bytes/s, as nccl-tests prints).
std::string collective_text(const CollectiveInputs &in, const std::vector<sim::CollectiveCost> &rows);

nlohmann::ordered_json system_json(const hw::SystemSpec &s);
std::string system_text(const hw::SystemSpec &s);
std::string system_list_text(const hw::SystemCatalogue &c);

} // namespace rooftop::rep
