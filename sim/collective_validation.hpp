// Comparing rooftop's collective model with published nccl-tests results.
#pragma once

#include "core/units.hpp"
#include "hwmodels/system.hpp"
#include "sim/collective.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace rooftop::sim {

/// One published nccl-tests figure (rooftop.nccl_published/1).
struct PublishedCollective {
  std::string id;
  std::string system;    ///< system id
  long long nodes = 1;
  long long ranks = 1;
  CollectiveOp op = CollectiveOp::all_reduce;
  Bytes size;
  BytesPerSecond busbw;  ///< published bus bandwidth, bytes/s
  std::string kind;      ///< measured | maintainer
  bool fitted = false;   ///< used to set an efficiency: shown, not counted in the error
  std::string source;
  std::string note;
};

/// Loads the published rows. Throws InputError naming file and field.
std::vector<PublishedCollective> load_published_collectives(const std::filesystem::path &file);

/// One comparison row.
struct CollectiveComparison {
  PublishedCollective published;
  CollectiveCost predicted;
  double relative_error = 0; ///< (predicted busbw - published) / published
};

/// Error statistics over the rows that were not fitted.
struct ErrorSummary {
  std::size_t count = 0;
  double median_abs = 0; ///< median |relative error|
  double p90_abs = 0;    ///< 90th percentile |relative error| (nearest rank)
  double max_abs = 0;
};

/// Predicts every row with the built-in systems and derated efficiencies.
std::vector<CollectiveComparison> compare_published(const std::vector<PublishedCollective> &rows);
ErrorSummary summarize_errors(const std::vector<double> &relative_errors);

} // namespace rooftop::sim
