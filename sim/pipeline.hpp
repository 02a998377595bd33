// Pipeline-parallel timing of micro-batches that need not be the same size.
#pragma once

#include "core/units.hpp"
#include "workloads/deployment.hpp"

#include <vector>

namespace rooftop::sim {

/// One phase's pass time at every pipeline stage for the two micro-batch sizes of a split.
struct PipelineStages {
  std::vector<Seconds> smaller; ///< stage s, a micro-batch of MicroBatches::size sequences, s
  std::vector<Seconds> larger;  ///< stage s, one of size + 1 (used only when mb.larger > 0), s
};

/// Time for every micro-batch to pass every stage once (GPipe prefill), the larger micro-batches
/// first. With t_s(b_i) the time of micro-batch i at stage s, the flow-shop recurrence
///   C(i, s) = max(C(i-1, s), C(i, s-1)) + t_s(b_i),   time = C(M-1, S-1)
/// (a stage starts a micro-batch when it has finished the previous one and the stage before has
/// handed this one over; Huang et al., GPipe, NeurIPS 2019). Equal micro-batches give
/// sum_s t_s + (M-1) max_s t_s. Seconds.
Seconds pipeline_fill_time(const wl::MicroBatches &mb, const PipelineStages &t);

/// Steady-state time for every micro-batch to advance by one pass (a decode step): each
/// micro-batch's pass waits for its previous one to cross every stage, and each stage serves
/// every micro-batch in turn:
///   max( max_i sum_s t_s(b_i),  max_s sum_i t_s(b_i) )
/// Equal micro-batches give max(sum_s t_s, M max_s t_s). Seconds.
Seconds pipeline_cycle_time(const wl::MicroBatches &mb, const PipelineStages &t);

} // namespace rooftop::sim
