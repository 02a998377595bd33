// Rendering report.html with kainjow mustache from the embedded templates.
#include "reports/html_report.hpp"

#include "core/errors.hpp"
#include "reports/format.hpp"
#include "reports/report_tables.hpp"

#include <fmt/format.h>
#include <kainjow/mustache.hpp>

#include <map>
#include <set>
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

/// A key-figure card; `cls`: "" , "nofit" (a figure of a deployment that does not fit: greyed
/// and tagged) or "bad" (the memory that does not fit).
nlohmann::json card(const std::string &key, const std::string &value, const std::string &note,
                    const std::string &cls = "") {
  return {{"key", key}, {"value", value}, {"note", note}, {"cls", cls},
          {"tag", cls == "nofit" ? nlohmann::json("does not fit: hypothetical")
                                 : nlohmann::json(false)}};
}

nlohmann::json key_figures(const EstimateInputs &in, const sim::Estimate &e) {
  const auto &m = e.memory;
  const auto &d = in.deployment;
  const std::string nofit = m.fits() ? "" : "nofit";
  return nlohmann::json::array(
      {card("TTFT", time(e.ttft),
            "time to first token (prefill of " + std::to_string(d.input_len) + " tokens)", nofit),
       card("TPOT", time(e.tpot), "mean decode step", nofit),
       card("end-to-end latency", time(e.e2e_latency),
            "TTFT + " + std::to_string(e.decode_steps) + " x TPOT", nofit),
       card("throughput", significant(e.output_tokens_per_s) + " tokens/s",
            fmt::format("output tokens, {}; {} per GPU, {} per user",
                        d.gpus() == 1 ? "the 1 GPU" : fmt::format("all {} GPUs", d.gpus()),
                        significant(e.output_tokens_per_s_per_gpu),
                        significant(e.output_tokens_per_s_per_user)),
            nofit),
       card("memory per GPU", gb(m.total()) + " of " + gb(m.capacity),
            (m.fits() ? "fits" : "DOES NOT FIT") +
                std::string("; largest batch that fits: ") + std::to_string(m.max_batch) +
                "; capacity: " + hw::capacity_label(m.capacity_source),
            m.fits() ? "" : "bad"),
       card("prefill", sim::to_string(e.prefill.bound) + "-bound",
            fmt::format("{:.0f} FLOP/B; tensor cores {} busy", e.prefill.arithmetic_intensity(),
                        percent(e.prefill.compute_utilization)),
            nofit),
       card("decode", sim::to_string(e.decode.bound) + "-bound",
            fmt::format("{:.1f} FLOP/B; {} {} busy", e.decode.arithmetic_intensity(),
                        in.gpu.memory_type, percent(e.decode.bandwidth_utilization)),
            nofit),
       card("efficiency", hw::to_string(in.efficiency.origin),
            "where the roofs' derating came from (see below)")});
}

/// "TP=4, PP=2, CP=1, EP=1, DP=1"
std::string mapping_text(const wl::Deployment &d) {
  return fmt::format("TP={}, PP={}, CP={}, EP={}, DP={}", d.tp, d.pp, d.cp, d.ep, d.dp);
}

/// "2 nodes x hgx-h100-8 (a cluster of 16 GPUs; fat tree, spine oversubscription 1)"
std::string system_text(const sim::Estimate &e, const hw::Cluster *cluster) {
  std::string s = fmt::format("{} x {}", counted(e.nodes, "node"), e.system);
  if (cluster)
    s += fmt::format(" (a cluster of {}", counted(cluster->gpus(), "GPU")) +
         (cluster->nodes > 1
              ? fmt::format("; fat tree, spine oversubscription {:g}", cluster->oversubscription)
              : "") +
         ")";
  return s;
}

/// "2 stages, 2 micro-batches of 16 sequences; prefill bubble 33.3%", or "" without PP.
std::string pipeline_text(const wl::Deployment &d, const sim::Estimate &e) {
  if (d.pp <= 1) return "";
  return fmt::format("{} stages, {}; prefill bubble {}", d.pp, microbatch_text(e.microbatches),
                     percent(e.bubble_fraction));
}

nlohmann::json inputs_table(const EstimateInputs &in, const sim::Estimate &e,
                            const sim::EstimateOptions &o, const hw::Cluster *cluster) {
  const auto &d = in.deployment;
  const auto &g = in.gpu;
  auto rows = nlohmann::json::array(
      {kv("model", in.model.id + " (" + in.model.model_type + ", " + in.model.file + ")"),
       kv("GPU", g.name + " (" + g.id + "): " + gb(g.memory_datasheet) + " " + g.memory_type +
                     " (datasheet" +
                     (g.memory_reported ? "; nvidia-smi reports " + gb(*g.memory_reported) : "") +
                     "), " + bandwidth(g.memory_bandwidth)),
       kv("system", system_text(e, cluster)),
       kv("GPUs and mapping",
          fmt::format("{}: {} (TP x PP x CP = {} per replica, {})", counted(d.gpus(), "GPU"),
                      mapping_text(d), counted(d.tp * d.pp * d.cp, "GPU"),
                      counted(d.dp, "replica")))});
  if (d.ep > 1)
    rows.push_back(kv("expert parallelism",
                      fmt::format("the MoE experts spread over {}; load imbalance {}",
                                  counted(d.ep, "GPU"),
                                  d.ep_imbalance > 0
                                      ? fmt::format("{:g} (given)", d.ep_imbalance)
                                      : "derived for uniform routing")));
  rows.push_back(kv("collectives", d.overlap_comm
                                       ? "overlapped with compute (--overlap-comm: stage time "
                                         "= max(communication, the rest), an upper bound)"
                                       : "not overlapped (stage time = communication + "
                                         "compute)"));
  rows.push_back(kv("pipeline", d.pp > 1 ? pipeline_text(d, e) : "none (PP=1)"));
  rows.push_back(kv("data types", "weights " + to_string(d.weight_dtype) + ", experts " +
                                      to_string(d.expert_dtype) + ", GEMM inputs " +
                                      to_string(d.act_dtype) + ", KV cache " +
                                      to_string(d.kv_dtype)));
  rows.push_back(kv("workload", fmt::format("batch {} per replica, {} input tokens, {} output "
                                            "tokens",
                                            d.batch, d.input_len, d.output_len)));
  if (o.max_prefill_tokens > 0)
    rows.push_back(kv("chunked prefill", fmt::format("{} tokens per pass (activation memory; "
                                                     "TTFT assumes one pass)",
                                                     o.max_prefill_tokens)));
  rows.push_back(kv("runtime reserve", percent(o.reserve_fraction) + " of GPU memory"));
  rows.push_back(kv("decode samples", std::to_string(o.decode_samples) + " context points"));
  rows.push_back(kv("efficiency", hw::to_string(in.efficiency.origin) + ": " +
                                      in.efficiency.provenance));
  return rows;
}

/// Every string of `j` through data_relative(), except under the keys in `keep`.
void relativize(nlohmann::json &j, const std::set<std::string> &keep) {
  if (j.is_string()) {
    j = data_relative(j.get<std::string>());
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!keep.count(it.key())) relativize(*it, keep);
  } else if (j.is_array()) {
    for (auto &x : j) relativize(x, keep);
  }
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
                              const std::vector<std::string> &svgs, const std::string &command,
                              const hw::Cluster *cluster) {
  const auto &d = in.deployment;
  nlohmann::json c = {{"version", version()},
                      {"git_sha", git_sha()},
                      {"model", in.model.id},
                      {"gpu_name", in.gpu.name},
                      {"gpus", d.gpus()},
                      {"mapping", mapping_text(d)},
                      {"system", fmt::format("{} x {}", counted(e.nodes, "node"), e.system)},
                      {"overlap", d.overlap_comm ? "collectives overlapped with compute"
                                                 : "collectives not overlapped"},
                      {"pipeline", d.pp > 1 ? nlohmann::json(pipeline_text(d, e))
                                            : nlohmann::json(false)},
                      {"batch", d.batch},
                      {"input_len", d.input_len},
                      {"output_len", d.output_len},
                      {"command", command},
                      {"cards", key_figures(in, e)},
                      {"inputs", inputs_table(in, e, o, cluster)},
                      {"efficiency_origin", hw::to_string(in.efficiency.origin)},
                      {"efficiency_provenance", in.efficiency.provenance},
                      {"efficiencies", efficiency_table(in.efficiency, in.gpu)},
                      {"gpu_figures", gpu_figure_table(in.gpu)}};
  c["out_of_memory"] = e.feasibility == sim::Feasibility::out_of_memory
                           ? nlohmann::json(out_of_memory_message(in, e))
                           : nlohmann::json(false);
  c["figures"] = figure_entries(p, svgs);
  // No local directories in a report that is shared: data files as data/... (the command
  // stays as given, so that it still runs; the SVGs hold no paths).
  relativize(c, {"command", "svg"});
  return c;
}

std::string report_html(const EstimateInputs &in, const sim::Estimate &e,
                        const sim::EstimateOptions &o, const PlotData &p,
                        const std::vector<std::string> &svgs, const std::string &command,
                        const hw::Cluster *cluster) {
  return render_template("report.html", report_context(in, e, o, p, svgs, command, cluster));
}

} // namespace rooftop::rep
