// Rendering report.html with kainjow mustache from the embedded templates.
#include "reports/html_report.hpp"

#include "core/errors.hpp"
#include "reports/format.hpp"
#include "reports/report_tables.hpp"

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include <map>
#include <string_view>

namespace rooftop::rep {
namespace {

namespace mu = kainjow::mustache;

const std::map<std::string, std::string_view> &templates() {
  static const std::map<std::string, std::string_view> t = {
#include "reports/templates.inc"
  };
  return t;
}

mu::data to_mustache(const nlohmann::json &j) {
  if (j.is_object()) {
    mu::data d{mu::data::type::object};
    for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_mustache(*it));
    return d;
  }
  if (j.is_array()) {
    mu::data d{mu::data::type::list};
    for (const auto &x : j) d.push_back(to_mustache(x));
    return d;
  }
  if (j.is_boolean()) return mu::data(j.get<bool>());
  if (j.is_null()) return mu::data(false);
  if (j.is_string()) return mu::data(j.get<std::string>());
  return mu::data(j.dump());
}

nlohmann::json kv(const std::string &key, const std::string &value) {
  return {{"key", key}, {"value", value}};
}

nlohmann::json card(const std::string &key, const std::string &value, const std::string &note) {
  return {{"key", key}, {"value", value}, {"note", note}};
}

nlohmann::json key_figures(const EstimateInputs &in, const sim::Estimate &e) {
  const auto &m = e.memory;
  return nlohmann::json::array(
      {card("TTFT", time(e.ttft), "time to first token (prefill of " +
                                      std::to_string(in.deployment.input_len) + " tokens)"),
       card("TPOT", time(e.tpot), "mean decode step"),
       card("end-to-end latency", time(e.e2e_latency),
            "TTFT + " + std::to_string(e.decode_steps) + " x TPOT"),
       card("throughput", fmt::format("{:.0f} tokens/s", e.output_tokens_per_s),
            fmt::format("output tokens, all {} GPUs; {:.1f} per GPU, {:.1f} per user",
                        in.deployment.gpus(), e.output_tokens_per_s_per_gpu,
                        e.output_tokens_per_s_per_user)),
       card("memory per GPU", gb(m.total()) + " of " + gb(m.capacity),
            (m.fits() ? "fits" : "DOES NOT FIT") +
                std::string("; largest batch that fits: ") + std::to_string(m.max_batch)),
       card("prefill", sim::to_string(e.prefill.bound) + "-bound",
            fmt::format("{:.0f} FLOP/B; tensor cores {} busy", e.prefill.arithmetic_intensity(),
                        percent(e.prefill.compute_utilization))),
       card("decode", sim::to_string(e.decode.bound) + "-bound",
            fmt::format("{:.1f} FLOP/B; HBM {} busy", e.decode.arithmetic_intensity(),
                        percent(e.decode.bandwidth_utilization))),
       card("efficiency", hw::to_string(in.efficiency.origin),
            "where the roofs' derating came from (see below)")});
}

nlohmann::json inputs_table(const EstimateInputs &in, const sim::EstimateOptions &o) {
  const auto &d = in.deployment;
  const auto &g = in.gpu;
  return nlohmann::json::array(
      {kv("model", in.model.id + " (" + in.model.model_type + ", " + in.model.file + ")"),
       kv("GPU", g.name + " (" + g.id + "): " + gb(g.memory_capacity) + " " + g.memory_type +
                     ", " + bandwidth(g.memory_bandwidth)),
       kv("GPUs and mapping", fmt::format("{} GPUs: TP={} x DP={} (PP={}, EP={})", d.gpus(),
                                          d.tp, d.dp, d.pp, d.ep)),
       kv("data types", "weights " + to_string(d.weight_dtype) + ", experts " +
                            to_string(d.expert_dtype) + ", GEMM inputs " +
                            to_string(d.act_dtype) + ", KV cache " + to_string(d.kv_dtype)),
       kv("workload", fmt::format("batch {} per replica, {} input tokens, {} output tokens",
                                  d.batch, d.input_len, d.output_len)),
       kv("runtime reserve", percent(o.reserve_fraction) + " of GPU memory"),
       kv("decode samples", std::to_string(o.decode_samples) + " context points"),
       kv("efficiency", hw::to_string(in.efficiency.origin) + ": " + in.efficiency.provenance)});
}

} // namespace

std::string render_template(const std::string &name, const nlohmann::json &data) {
  const auto it = templates().find(name);
  if (it == templates().end()) throw InternalError("no embedded template '" + name + "'");
  mu::mustache tmpl{std::string(it->second)};
  if (!tmpl.is_valid())
    throw InternalError("template " + name + ": " + tmpl.error_message());
  std::string out = tmpl.render(to_mustache(data));
  if (!tmpl.is_valid())
    throw InternalError("template " + name + ": " + tmpl.error_message());
  return out;
}

nlohmann::json report_context(const EstimateInputs &in, const sim::Estimate &e,
                              const sim::EstimateOptions &o, const PlotData &p,
                              const std::vector<std::string> &svgs, const std::string &command) {
  const auto &d = in.deployment;
  nlohmann::json c = {{"version", version()},
                      {"git_sha", git_sha()},
                      {"model", in.model.id},
                      {"gpu_name", in.gpu.name},
                      {"gpus", d.gpus()},
                      {"tp", d.tp},
                      {"dp", d.dp},
                      {"batch", d.batch},
                      {"input_len", d.input_len},
                      {"output_len", d.output_len},
                      {"command", command},
                      {"cards", key_figures(in, e)},
                      {"inputs", inputs_table(in, o)},
                      {"efficiency_origin", hw::to_string(in.efficiency.origin)},
                      {"efficiency_provenance", in.efficiency.provenance},
                      {"efficiencies", efficiency_table(in.efficiency, in.gpu)},
                      {"gpu_figures", gpu_figure_table(in.gpu)}};
  c["out_of_memory"] = e.feasibility == sim::Feasibility::out_of_memory
                           ? nlohmann::json(out_of_memory_message(in, e))
                           : nlohmann::json(false);
  c["figures"] = figure_entries(p, svgs);
  return c;
}

std::string report_html(const EstimateInputs &in, const sim::Estimate &e,
                        const sim::EstimateOptions &o, const PlotData &p,
                        const std::vector<std::string> &svgs, const std::string &command) {
  return render_template("report.html", report_context(in, e, o, p, svgs, command));
}

} // namespace rooftop::rep
