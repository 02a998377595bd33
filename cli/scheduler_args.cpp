// Scheduler option registration shared by `serve` and `plan`.
#include "cli/scheduler_args.hpp"

#include "cli/options.hpp"

namespace rooftop::cli {

void add_scheduler_options(CLI::App &c, SchedulerArgs &a) {
  c.add_option("--max-num-seqs", a.max_num_seqs,
               "requests running at once on a replica (vLLM max_num_seqs)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--max-num-batched-tokens", a.max_num_batched_tokens,
               "tokens per step: decodes plus prefill chunks (chunked prefill)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--block-size", a.block_size, "tokens per KV-cache block")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--admission", a.admission,
               "on-demand (vLLM: blocks as needed, preemption by recompute) or reserve "
               "(TensorRT-LLM GUARANTEED_NO_EVICT: blocks for the whole request up front)")
      ->capture_default_str();
  c.add_option("--step-overhead", a.step_overhead_s,
               "host time added to every step, s (scheduler, sampling; default 0: not modelled)")
      ->capture_default_str();
}

sim::SchedulerConfig scheduler_config(const SchedulerArgs &a, double reserve_fraction) {
  sim::SchedulerConfig cfg;
  cfg.max_num_seqs = a.max_num_seqs;
  cfg.max_num_batched_tokens = a.max_num_batched_tokens;
  cfg.block_size = a.block_size;
  cfg.admission = sim::admission_from_string(a.admission);
  cfg.step_overhead = Seconds(a.step_overhead_s);
  cfg.reserve_fraction = reserve_fraction;
  return cfg;
}

} // namespace rooftop::cli
