// `rooftop plan` output: the candidates' table and rooftop.plan/1.
#include "reports/plan_report.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

namespace rooftop::rep {
namespace {

std::string pct(double q) { return q == 0.5 ? "p50" : q == 0.9 ? "p90" : "p99"; }

} // namespace

nlohmann::ordered_json plan_json(const wl::ModelSpec &m, const sim::PlanTarget &t,
                                 const sim::SchedulerConfig &cfg,
                                 const std::vector<sim::PlanRow> &rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto &r : rows) {
    nlohmann::ordered_json j{{"gpu", r.gpu},
                             {"tp", r.tp},
                             {"ep", r.ep},
                             {"pp", r.pp},
                             {"dp", r.dp},
                             {"gpus", r.gpus},
                             {"feasible", r.feasible},
                             {"preliminary_gpu_figures", r.preliminary},
                             {"reason", r.reason}};
    if (r.feasible) {
      j["ttft_s"] = r.ttft.value();
      j["tpot_s"] = r.tpot ? nlohmann::ordered_json(r.tpot->value()) : nlohmann::ordered_json();
      j["output_tokens_per_s"] = r.output_tokens_per_s;
      j["usd_per_hour"] = r.usd_per_hour;
      j["usd_per_million_output_tokens"] = r.usd_per_million_output_tokens;
    }
    out.push_back(j);
  }
  nlohmann::ordered_json objective{{"percentile", t.quantile * 100}, {"ttft_s", t.ttft.value()}};
  if (t.tpot) objective["tpot_s"] = t.tpot->value();
  return {{"schema", "rooftop.plan/1"},
          {"rooftop_version", version()},
          {"git_sha", git_sha()},
          {"model", m.id},
          {"model_file", m.file},
          {"load",
           {{"rate_per_s", t.rate_per_s},
            {"input_tokens", t.input_tokens},
            {"output_tokens", t.output_tokens},
            {"requests_per_replica", t.requests},
            {"seed", t.seed}}},
          {"objective", objective},
          {"max_gpus", t.max_gpus},
          {"engine", t.engine},
          {"scheduler",
           {{"max_num_seqs", cfg.max_num_seqs},
            {"max_num_batched_tokens", cfg.max_num_batched_tokens},
            {"block_size_tokens", cfg.block_size},
            {"admission", sim::to_string(cfg.admission)},
            {"step_overhead_s", cfg.step_overhead.value()},
            {"reserve_fraction", cfg.reserve_fraction}}},
          {"candidates", out}};
}

std::string plan_text(const wl::ModelSpec &m, const sim::PlanTarget &t,
                      const std::vector<sim::PlanRow> &rows) {
  const std::string p = pct(t.quantile);
  std::string s = fmt::format(
      "{}: {} requests/s of {} in / {} out tokens; objective {} TTFT <= {}{}\n", m.id,
      significant(t.rate_per_s), t.input_tokens, t.output_tokens, p, time(t.ttft),
      t.tpot ? fmt::format(", {} TPOT <= {}", p, time(*t.tpot)) : std::string());
  if (t.engine != "vllm")
    s += "efficiency tables: --engine " + t.engine +
         " (each GPU's, or its architecture's; a GPU with neither is not planned)\n";
  s += fmt::format("{:<14} {:>3} {:>3} {:>3} {:>5} {:>5} {:>11} {:>11} {:>12} {:>9} {:>11}\n",
                   "gpu", "tp", "ep", "pp", "dp", "gpus", p + " TTFT", p + " TPOT", "out tok/s", "USD/h", "USD/Mtok");
  bool preliminary = false;
  for (const auto &r : rows) {
    preliminary = preliminary || r.preliminary;
    const std::string gpu = r.gpu + (r.preliminary ? "*" : "");
    if (!r.feasible) {
      s += fmt::format("{:<14} {:>3} {:>3} {:>3}   -- {}\n", gpu, r.tp, r.ep, r.pp, r.reason);
      continue;
    }
    const bool priced = r.usd_per_hour > 0;
    s += fmt::format("{:<14} {:>3} {:>3} {:>3} {:>5} {:>5} {:>11} {:>11} {:>12} {:>9} {:>11}\n",
                     gpu, r.tp, r.ep, r.pp, r.dp, r.gpus, time(r.ttft), r.tpot ? time(*r.tpot) : std::string("-"),
                     significant(r.output_tokens_per_s),
                     priced ? significant(r.usd_per_hour) : std::string("-"),
                     priced ? significant(r.usd_per_million_output_tokens) : std::string("-"));
  }
  if (preliminary)
    s += "* NVIDIA has published only preliminary figures for this GPU (rooftop hw show ID)\n";
  return s;
}

} // namespace rooftop::rep
