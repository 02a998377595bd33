// The scheduler options shared by `rooftop serve` and `rooftop plan`.
#pragma once

#include "sim/serving.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace rooftop::cli {

/// The scheduler options as given on the command line.
struct SchedulerArgs {
  long long max_num_seqs = 256;
  long long max_num_batched_tokens = 8192;
  long long block_size = 16;
  std::string admission = "on-demand";
  double step_overhead_s = 0;
};

/// Registers --max-num-seqs --max-num-batched-tokens --block-size --admission --step-overhead on
/// `c`, bound to `a` (which must outlive parsing).
void add_scheduler_options(CLI::App &c, SchedulerArgs &a);

/// The engine's settings from the options; `reserve_fraction` comes from the caller's own
/// option. Throws InputError for an unknown --admission (ranges are checked by the simulator).
sim::SchedulerConfig scheduler_config(const SchedulerArgs &a, double reserve_fraction);

} // namespace rooftop::cli
