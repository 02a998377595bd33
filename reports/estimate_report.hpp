// The estimate as JSON (the machine-readable contract) and as text for people.
#pragma once

#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/estimate.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace rooftop::rep {

/// Everything an estimate was computed from.
struct EstimateInputs {
  const wl::ModelSpec &model;
  const hw::GpuSpec &gpu;
  const wl::Deployment &deployment;
  const hw::Efficiency &efficiency;
};

/// "2 micro-batches of 16 sequences", or with an uneven split "3 micro-batches: 1 of 5
/// sequences, 2 of 4".
std::string microbatch_text(const wl::MicroBatches &mb);
/// The capacity an estimate used and which figure it is: "85.52 GB (nvidia-smi total)", or
/// "288.00 GB (datasheet figure: no reported total)".
std::string capacity_text(const sim::MemoryBreakdown &m);
/// The keys every deployment result starts with: schema, rooftop version and git sha, model and
/// its file, GPU, GPU count, system and node count.
nlohmann::ordered_json result_header(const std::string &schema, const wl::ModelSpec &m,
                                     const hw::GpuSpec &gpu, long long gpus,
                                     const std::string &system, long long nodes);
/// The resolved data types: {"weights", "experts", "activations", "kv_cache"}.
nlohmann::ordered_json dtypes_json(const wl::Deployment &d);
/// Where the efficiencies came from and their values (the "efficiency" object of the JSON).
/// `allreduce_applied`: whether the table's measured all-reduce applied to the cluster.
nlohmann::ordered_json efficiency_json(const hw::Efficiency &e, bool allreduce_applied);
/// The measured all-reduce of a table, in brief: {"implementation", "scale_up_link", "ranks",
/// "off" (--allreduce nccl), "applied" (it costed the TP all-reduces)}; null when it has none.
nlohmann::ordered_json allreduce_summary_json(const hw::AllReduceCurves &c, bool applied);
/// "all-reduce: measured (...) for groups of 2, 4, 8 GPUs inside one NVSwitch domain of nvlink4;
/// ..." when it costed the TP all-reduces, else "all-reduce: NCCL's model (...)" saying why
/// (turned off, or TP group `tp` on `system` not covered), each with a newline; "" when the
/// table has none or tp < 2.
std::string allreduce_line(const hw::AllReduceCurves &c, bool applied, long long tp,
                           const std::string &system);
/// The rooftop.estimate/1 object documented in the README (all SI units, per GPU unless named).
nlohmann::ordered_json estimate_json(const EstimateInputs &in, const sim::Estimate &e);
/// A readable summary: inputs, memory, prefill, decode, throughput and the top operators.
std::string estimate_text(const EstimateInputs &in, const sim::Estimate &e);
/// "llama-3.1-405b does not fit on h100-sxm with TP=1: needs 823.2 GB per GPU (...), has 80 GB"
std::string out_of_memory_message(const EstimateInputs &in, const sim::Estimate &e);

} // namespace rooftop::rep
