// Output of `rooftop serve`: text, the rooftop.serving/1 JSON object and a per-request CSV.
#pragma once

#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/serving.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace rooftop::rep {

/// What was simulated, for the header of every output.
struct ServingInputs {
  const wl::ModelSpec &model;
  const hw::GpuSpec &gpu;
  const wl::Deployment &deployment;
  const hw::Efficiency &efficiency;
  const sim::SchedulerConfig &scheduler;
  std::string workload;              ///< how the requests were made ("1000 requests at t = 0")
  std::optional<Seconds> slo_ttft;   ///< service-level objectives for goodput, if given
  std::optional<Seconds> slo_tpot;
};

/// Requests meeting every given SLO (TTFT <= slo_ttft and TPOT <= slo_tpot).
long long requests_within_slo(const ServingInputs &in, const sim::ServingResult &r);

/// The rooftop.serving/1 object (docs/schemas.md): SI units, per GPU where named.
nlohmann::ordered_json serving_json(const ServingInputs &in, const sim::ServingResult &r);
/// A readable summary: deployment, memory, throughput, TTFT/TPOT/E2E percentiles.
std::string serving_text(const ServingInputs &in, const sim::ServingResult &r);
/// One line per request: index, replica, arrival, lengths, TTFT, TPOT, E2E (seconds), preemptions.
std::string serving_csv(const sim::ServingResult &r);

} // namespace rooftop::rep
