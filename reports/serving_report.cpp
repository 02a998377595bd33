// `rooftop serve` output: the summary text, rooftop.serving/1 JSON and the per-request CSV.
#include "reports/serving_report.hpp"

#include "reports/estimate_report.hpp"
#include "reports/format.hpp"

#include <fmt/format.h>

namespace rooftop::rep {
namespace {

/// null when no request has the latency (TPOT of one-token requests only), not zeros.
nlohmann::ordered_json stats_json(const sim::LatencyStats &s) {
  if (s.count == 0) return nullptr;
  return {{"mean_s", s.mean.value()}, {"p50_s", s.p50.value()}, {"p90_s", s.p90.value()},
          {"p99_s", s.p99.value()},   {"max_s", s.max.value()}};
}

std::string stats_line(const char *name, const sim::LatencyStats &s) {
  if (s.count == 0)
    return fmt::format("  {:<5} none: every request has one output token\n", name);
  return fmt::format("  {:<5} mean {:>10}  p50 {:>10}  p90 {:>10}  p99 {:>10}  max {:>10}\n", name,
                     time(s.mean), time(s.p50), time(s.p90), time(s.p99), time(s.max));
}

} // namespace

long long requests_within_slo(const ServingInputs &in, const sim::ServingResult &r) {
  long long n = 0;
  for (const auto &q : r.requests) {
    const bool ttft_ok = !in.slo_ttft || q.ttft() <= *in.slo_ttft;
    const bool tpot_ok = !in.slo_tpot || q.tpot() <= *in.slo_tpot;
    n += ttft_ok && tpot_ok ? 1 : 0;
  }
  return n;
}

nlohmann::ordered_json serving_json(const ServingInputs &in, const sim::ServingResult &r) {
  const auto &d = in.deployment;
  const auto &c = in.scheduler;
  const auto &m = r.memory;
  nlohmann::ordered_json slo = nlohmann::ordered_json::object();
  if (in.slo_ttft) slo["ttft_s"] = in.slo_ttft->value();
  if (in.slo_tpot) slo["tpot_s"] = in.slo_tpot->value();
  const long long good = requests_within_slo(in, r);
  const double span = r.makespan.value();
  auto j = result_header("rooftop.serving/1", in.model, in.gpu, d.gpus(), r.system, r.nodes);
  j.update(nlohmann::ordered_json{
      {"mapping",
       {{"tp", d.tp}, {"pp", d.pp}, {"ep", d.ep}, {"dp", d.dp}, {"overlap_comm", d.overlap_comm}}},
      {"dtypes", dtypes_json(d)},
      {"scheduler",
       {{"max_num_seqs", c.max_num_seqs},
        {"max_num_batched_tokens", c.max_num_batched_tokens},
        {"block_size_tokens", c.block_size},
        {"admission", sim::to_string(c.admission)},
        {"step_overhead_s", c.step_overhead.value()},
        {"reserve_fraction", c.reserve_fraction}}},
      {"workload", in.workload},
      {"efficiency", efficiency_json(in.efficiency, r.measured_allreduce)},
      {"memory",
       {{"weights_bytes_per_gpu", m.weights.value()},
        {"step_activation_bytes_per_gpu", m.activations.value()},
        {"reserved_bytes_per_gpu", m.reserved.value()},
        {"kv_pool_bytes_per_gpu", r.kv_pool.value()},
        {"capacity_bytes_per_gpu", m.capacity.value()},
        {"capacity_source", hw::to_string(m.capacity_source)},
        {"peak_kv_fraction", r.peak_kv_fraction},
        {"pipeline_stage", r.kv_stage}}},
      {"requests", static_cast<long long>(r.requests.size())},
      {"makespan_s", span},
      {"steps", r.steps},
      {"preemptions", r.preemptions},
      {"mean_decode_batch", r.mean_decode_batch},
      {"max_running", r.max_running},
      {"output_tokens_per_s", r.output_tokens_per_s},
      {"output_tokens_per_s_per_gpu", r.output_tokens_per_s_per_gpu},
      {"input_tokens_per_s", r.input_tokens_per_s},
      {"requests_per_s", r.requests_per_s},
      {"ttft", stats_json(r.ttft)},
      {"tpot", stats_json(r.tpot)},
      {"e2e_latency", stats_json(r.e2e)},
      {"slo", slo},
      {"requests_within_slo", good},
      {"goodput_requests_per_s", static_cast<double>(good) / span}});
  return j;
}

std::string serving_text(const ServingInputs &in, const sim::ServingResult &r) {
  const auto &d = in.deployment;
  const auto &c = in.scheduler;
  const auto &m = r.memory;
  std::string s;
  s += fmt::format("{} on {} x {}  (TP={}{} EP={} DP={})  {}\n", in.model.id, d.gpus(),
                   in.gpu.name, d.tp, d.pp > 1 ? fmt::format(" PP={}", d.pp) : std::string(),
                   d.ep, d.dp, in.workload);
  s += fmt::format("system: {} x {}; dtypes: weights {}, GEMM inputs {}, KV cache {}\n", r.nodes,
                   r.system, to_string(d.weight_dtype), to_string(d.act_dtype),
                   to_string(d.kv_dtype));
  s += fmt::format("scheduler: continuous batching, at most {} requests and {} tokens per step, "
                   "KV blocks of {} tokens, {} admission{}\n",
                   c.max_num_seqs, c.max_num_batched_tokens, c.block_size,
                   sim::to_string(c.admission),
                   c.step_overhead.value() > 0
                       ? fmt::format(", {} host time per step", time(c.step_overhead))
                       : std::string(", no host time per step"));
  s += fmt::format("efficiency: {}\n", hw::to_string(in.efficiency.origin));
  s += allreduce_line(in.efficiency.allreduce, r.measured_allreduce, in.deployment.tp, r.system);
  // With pp > 1 the peak and the running count are one scheduler's, which holds 1/pp of the pool.
  const std::string one_scheduler =
      d.pp > 1 ? fmt::format(" of one scheduler's 1/{}", d.pp) : std::string();
  s += fmt::format("memory per GPU{}: capacity {}, weights {}, one step's activations {}, reserve "
                   "{}; KV pool {} (peak use {}{})\n",
                   d.pp > 1 ? fmt::format(" of pipeline stage {} (the fewest KV tokens)", r.kv_stage)
                            : std::string(),
                   capacity_text(m), gb(m.weights), gb(m.activations), gb(m.reserved),
                   gb(r.kv_pool), percent(r.peak_kv_fraction), one_scheduler);
  if (d.pp > 1)
    s += fmt::format("pipeline: {} stages, {} micro-batch schedulers per replica, each with 1/{} "
                     "of the KV pool; a step takes the pipeline's cycle\n",
                     d.pp, d.pp, d.pp);
  s += fmt::format("run: {} requests in {}; {} steps, mean decode batch {}, at most {} running{}, "
                   "{} preemptions\n",
                   r.requests.size(), time(r.makespan), r.steps, significant(r.mean_decode_batch),
                   r.max_running, d.pp > 1 ? " in one scheduler" : "", r.preemptions);
  s += fmt::format("throughput: {} output tokens/s ({} per GPU), {} input tokens/s, {} requests/s\n",
                   significant(r.output_tokens_per_s), significant(r.output_tokens_per_s_per_gpu),
                   significant(r.input_tokens_per_s), significant(r.requests_per_s));
  s += "latency:\n";
  s += stats_line("TTFT", r.ttft);
  s += stats_line("TPOT", r.tpot);
  s += stats_line("E2E", r.e2e);
  if (in.slo_ttft || in.slo_tpot) {
    const long long good = requests_within_slo(in, r);
    std::string slo;
    if (in.slo_ttft) slo += "TTFT <= " + time(*in.slo_ttft);
    if (in.slo_tpot) slo += std::string(slo.empty() ? "" : ", ") + "TPOT <= " + time(*in.slo_tpot);
    s += fmt::format("SLO ({}): {} of {} requests ({}), goodput {} requests/s\n", slo, good,
                     r.requests.size(),
                     percent(static_cast<double>(good) / static_cast<double>(r.requests.size())),
                     significant(static_cast<double>(good) / r.makespan.value()));
  }
  return s;
}

std::string serving_csv(const sim::ServingResult &r) {
  std::string s = "request,replica,arrival_s,input_tokens,output_tokens,ttft_s,tpot_s,"
                  "e2e_latency_s,preemptions\n";
  for (std::size_t i = 0; i < r.requests.size(); ++i) {
    const auto &q = r.requests[i];
    // A one-token request has no TPOT: an empty field, not 0.
    const std::string tpot =
        q.request.output_tokens > 1 ? fmt::format("{:.9g}", q.tpot().value()) : std::string();
    s += fmt::format("{},{},{:.9g},{},{},{:.9g},{},{:.9g},{}\n", i, q.replica,
                     q.request.arrival_s, q.request.input_tokens, q.request.output_tokens,
                     q.ttft().value(), tpot, q.e2e().value(), q.preemptions);
  }
  return s;
}

} // namespace rooftop::rep
