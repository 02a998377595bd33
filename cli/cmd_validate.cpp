// `rooftop validate`: predicted versus published or measured figures, with the error.
#include "cli/commands.hpp"
#include "core/errors.hpp"
#include "core/paths.hpp"
#include "calibration/calibration_file.hpp"
#include "calibration/fit.hpp"
#include "cli/calibration_predict.hpp"
#include "cli/estimate_args.hpp"
#include "cli/options.hpp"
#include "cli/serving_validation.hpp"
#include "hwmodels/efficiency.hpp"
#include "reports/parity_plot.hpp"
#include "sim/collective_validation.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

rep::ParityPlot calibration_plot(const std::vector<CaseError> &errors, const std::string &gpu) {
  rep::ParityPlot p{"rooftop predicted vs measured kernel time, " + gpu, "measured (s)",
                    "predicted by rooftop (s)", "held out", "fitted on", 0.1, "top left", {}};
  for (const auto &e : errors) p.points.push_back({e.group, e.m->median_s, e.predicted_s, e.held_out});
  return p;
}

void run_nccl(const std::string &file, bool json) {
  const auto rows = sim::load_published_collectives(file);
  std::vector<sim::CollectiveComparison> cmp;
  try {
    cmp = sim::compare_published(rows);
  } catch (const InputError &e) {
    throw InputError(file + ": " + e.what());
  }
  std::vector<double> errors;
  for (const auto &c : cmp)
    if (!c.published.fitted) errors.push_back(c.relative_error);
  const auto s = sim::summarize_errors(errors);
  if (json) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto &c : cmp)
      a.push_back({{"id", c.published.id},
                   {"system", c.published.system},
                   {"nodes", c.published.nodes},
                   {"ranks", c.published.ranks},
                   {"op", sim::to_string(c.published.op)},
                   {"size_bytes", c.published.size.value()},
                   {"published_busbw_Bps", c.published.busbw.value()},
                   {"predicted_busbw_Bps", c.predicted.busbw.value()},
                   {"predicted_algorithm", c.predicted.algorithm},
                   {"predicted_protocol", c.predicted.protocol},
                   {"relative_error", c.relative_error},
                   {"fitted", c.published.fitted},
                   {"kind", c.published.kind},
                   {"source", c.published.source}});
    nlohmann::ordered_json j = {{"schema", "rooftop.validation/1"},
                                {"file", file},
                                {"rows", a},
                                {"summary",
                                 {{"count", s.count},
                                  {"median_abs_relative_error", s.median_abs},
                                  {"p90_abs_relative_error", s.p90_abs},
                                  {"max_abs_relative_error", s.max_abs}}}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  // Columns as wide as their longest entry (ids such as aic-h100-reduce-scatter-8gpu-536870912
  // and the op reduce-scatter are longer than a fixed width), and the group size: rows of one
  // node differ only in it.
  std::size_t id_w = 22, sys_w = 14, op_w = 12; // at least the widths they always had
  for (const auto &c : cmp) {
    id_w = std::max(id_w, c.published.id.size());
    sys_w = std::max(sys_w, c.published.system.size());
    op_w = std::max(op_w, sim::to_string(c.published.op).size());
  }
  std::cout << fmt::format("{:<{}} {:<{}} {:>5} {:>5} {:<{}} {:>12} {:>10} {:>10} {:>8}  {:<8} {}\n",
                           "id", id_w, "system", sys_w, "nodes", "GPUs", "op", op_w, "size (B)",
                           "published", "rooftop", "error", "protocol", "algorithm");
  for (const auto &c : cmp)
    std::cout << fmt::format("{:<{}} {:<{}} {:>5} {:>5} {:<{}} {:>12.0f} {:>10.1f} {:>10.1f} "
                             "{:>+7.1f}%  {:<8} {}{}\n",
                             c.published.id, id_w, c.published.system, sys_w, c.published.nodes,
                             c.published.ranks, sim::to_string(c.published.op), op_w,
                             c.published.size.value(), c.published.busbw.value() / 1e9,
                             c.predicted.busbw.value() / 1e9, 100 * c.relative_error,
                             c.predicted.protocol.empty() ? "-" : c.predicted.protocol,
                             c.predicted.algorithm,
                             c.published.fitted ? "  (fitted: not counted)" : "");
  std::cout << fmt::format("busbw in GB/s (1e9 bytes/s). {} rows counted: median |error| {:.1f}%, "
                           "p90 {:.1f}%, max {:.1f}%\n",
                           s.count, 100 * s.median_abs, 100 * s.p90_abs, 100 * s.max_abs);
}

nlohmann::ordered_json summary_json(const sim::ErrorSummary &s, double median_signed) {
  return {{"count", s.count},
          {"median_relative_error", median_signed},
          {"median_abs_relative_error", s.median_abs},
          {"p90_abs_relative_error", s.p90_abs},
          {"max_abs_relative_error", s.max_abs}};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool is_latency(const std::string &metric) {
  return metric == "ttft_s" || metric == "tpot_s" || metric == "e2e_latency_s";
}

std::string metric_value(const std::string &metric, double v) {
  if (is_latency(metric)) return fmt::format("{:.1f} ms", v * 1e3);
  if (metric == "output_tokens_per_s_per_gpu") return fmt::format("{:.0f} tok/s/GPU", v);
  if (metric == "output_tokens_per_s_per_user") return fmt::format("{:.1f} tok/s/user", v);
  return fmt::format("{:.0f} tok/s", v);
}

std::string summary_line(const std::string &label, const std::vector<double> &errs) {
  const auto s = sim::summarize_errors(errs);
  return fmt::format("  {:<28} {:>4} rows  median {:>+6.1f}%  median |error| {:>5.1f}%  "
                     "p90 {:>6.1f}%  max {:>6.1f}%\n",
                     label, s.count, 100 * median(errs), 100 * s.median_abs, 100 * s.p90_abs,
                     100 * s.max_abs);
}

/// The counted errors of a serving comparison. Throughput and latency errors have opposite
/// signs for the same optimism, so they are summarized apart.
/// A group of throughput rows: a source and some of the model, TP and GPU the row's estimate used
/// (an empty field, or tp 0, when the grouping does not split by it).
struct RowGroup {
  std::string source, model;
  long long tp = 0;
  std::string gpu;
  bool operator<(const RowGroup &o) const {
    return std::tie(source, model, tp, gpu) < std::tie(o.source, o.model, o.tp, o.gpu);
  }
};
using Grouped = std::map<RowGroup, std::vector<double>>;

struct ServingTally {
  std::map<std::string, std::vector<double>> by_source;
  /// Throughput errors by source, model and TP; by source, model, TP and GPU; by source and GPU
  /// (as the row's estimate resolved them: --system gives the GPU, --tp absent is 1).
  Grouped by_model_tp, by_model_tp_gpu, by_gpu;
  std::vector<double> throughput, latency;
  std::size_t not_fit = 0, uncounted = 0;
};

ServingTally tally(const std::vector<ServingComparison> &cmp) {
  ServingTally t;
  for (const auto &c : cmp) {
    if (!c.fits) ++t.not_fit;
    if (!c.counted()) {
      ++t.uncounted;
      continue;
    }
    t.by_source[c.row->source].push_back(c.relative_error);
    (is_latency(c.row->metric) ? t.latency : t.throughput).push_back(c.relative_error);
    if (is_latency(c.row->metric)) continue;
    t.by_model_tp[{c.row->source, c.model, c.tp, ""}].push_back(c.relative_error);
    t.by_model_tp_gpu[{c.row->source, c.model, c.tp, c.gpu}].push_back(c.relative_error);
    t.by_gpu[{c.row->source, "", 0, c.gpu}].push_back(c.relative_error);
  }
  return t;
}

nlohmann::ordered_json grouped_json(const Grouped &groups) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto &[g, errs] : groups) {
    nlohmann::ordered_json j = {{"source", g.source}};
    if (!g.model.empty()) j["model"] = g.model;
    if (g.tp > 0) j["tp"] = g.tp;
    if (!g.gpu.empty()) j["gpu"] = g.gpu;
    j.update(summary_json(sim::summarize_errors(errs), median(errs)));
    a.push_back(j);
  }
  return a;
}

std::string grouped_text(const std::string &title, const Grouped &groups) {
  std::string s = "throughput error by " + title + ":\n";
  for (const auto &[g, errs] : groups) {
    std::string label = g.model;
    if (g.tp > 0) label += fmt::format(" TP {}", g.tp);
    if (!g.gpu.empty()) label += (label.empty() ? "" : " ") + g.gpu;
    s += fmt::format("  {:<28} {:<32} {:>4} rows  median {:>+6.1f}%  min {:>+6.1f}%  "
                     "max {:>+6.1f}%\n",
                     g.source, label, errs.size(), 100 * median(errs),
                     100 * *std::min_element(errs.begin(), errs.end()),
                     100 * *std::max_element(errs.begin(), errs.end()));
  }
  return s;
}

nlohmann::ordered_json serving_json(const ServingPublished &pub,
                                    const std::vector<ServingComparison> &cmp,
                                    const ServingTally &t) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto &c : cmp)
    rows.push_back({{"id", c.row->id},
                    {"source", c.row->source},
                    {"command", "rooftop estimate " + c.args},
                    {"metric", c.row->metric},
                    {"published", c.row->published},
                    {"predicted", c.predicted},
                    {"relative_error", c.relative_error},
                    {"batch", c.batch},
                    {"fits", c.fits},
                    {"counted", c.counted()}});
  nlohmann::ordered_json sources = nlohmann::ordered_json::object();
  for (const auto &[key, src] : pub.sources) {
    const auto it = t.by_source.find(key);
    if (it == t.by_source.end()) continue; // no counted row
    sources[key] = {{"framework", src.framework},
                    {"citation", src.citation},
                    {"rooftop_args", src.rooftop_args},
                    {"summary",
                     summary_json(sim::summarize_errors(it->second), median(it->second))}};
  }
  return {{"schema", "rooftop.validation/1"},
          {"file", pub.file},
          {"kind", "serving"},
          {"rows", rows},
          {"sources", sources},
          {"rows_not_fitting", t.not_fit},
          {"rows_not_counted", t.uncounted},
          {"summary_throughput",
           summary_json(sim::summarize_errors(t.throughput), median(t.throughput))},
          {"summary_latency", summary_json(sim::summarize_errors(t.latency), median(t.latency))},
          {"summary_throughput_by_model_tp", grouped_json(t.by_model_tp)},
          {"summary_throughput_by_model_tp_gpu", grouped_json(t.by_model_tp_gpu)},
          {"summary_throughput_by_gpu", grouped_json(t.by_gpu)}};
}

std::string serving_text(const std::vector<ServingComparison> &cmp, const ServingTally &t) {
  std::string s = fmt::format("{:<46} {:>15} {:>15} {:>8}  {}\n", "id", "published", "rooftop",
                              "error", "note");
  for (const auto &c : cmp) {
    std::string note;
    if (c.batch_max) note = "batch " + std::to_string(c.batch);
    if (!c.fits)
      note += std::string(note.empty() ? "" : ", ") +
              (c.counted() ? "rooftop: does not fit"
                           : "rooftop: not even batch 1 fits (not counted)");
    s += fmt::format("{:<46} {:>15} {:>15} {:>+7.1f}%  {}\n", c.row->id,
                     metric_value(c.row->metric, c.row->published),
                     metric_value(c.row->metric, c.predicted), 100 * c.relative_error, note);
  }
  s += "\nerror = rooftop / published - 1 (for throughput, + means rooftop is optimistic; "
       "for latency, -)\n";
  for (const auto &[key, errs] : t.by_source) s += summary_line(key, errs);
  if (!t.throughput.empty()) s += summary_line("all throughput rows", t.throughput);
  if (!t.latency.empty()) s += summary_line("all latency rows", t.latency);
  s += grouped_text("source and GPU", t.by_gpu);
  s += grouped_text("source, model and TP (all GPUs)", t.by_model_tp);
  s += grouped_text("source, model, TP and GPU", t.by_model_tp_gpu);
  s += fmt::format("{} of {} published deployments do not fit by rooftop's memory model; "
                   "{} of them (--batch max, not even batch 1) are not counted.\n"
                   "Each row's command and source: --json; the sources: {}\n",
                   t.not_fit, cmp.size(), t.uncounted, "docs/validation/serving.md");
  return s;
}

/// The throughput rows of a serving comparison against their published figures, one colour per
/// model; latency rows (another unit) are left out, and so are uncounted rows.
rep::ParityPlot serving_plot(const std::vector<ServingComparison> &cmp) {
  rep::ParityPlot p{"", "published output tokens/s (per GPU where the source gives it so)",
                    "rooftop (same metric)", "fits in memory", "does not",
                    0.2, "bottom right", {}};
  std::size_t latency = 0;
  for (const auto &c : cmp) {
    if (is_latency(c.row->metric)) ++latency;
    if (!c.counted() || is_latency(c.row->metric)) continue;
    p.points.push_back({c.model, c.row->published, c.predicted, c.fits});
  }
  p.title = fmt::format("rooftop vs published serving throughput: {} rows ({} latency rows "
                        "not plotted)",
                        p.points.size(), latency);
  return p;
}

/// validate --serving: every published end-to-end figure, estimated with its row's options.
void run_serving(const std::string &file, bool json, const std::string &png,
                 const std::string &engine) {
  const auto pub = load_serving_published(file);
  const auto cmp = compare_serving(pub, engine);
  const ServingTally t = tally(cmp);
  if (t.throughput.empty() && t.latency.empty())
    throw InputError(file + ": /rows: nothing to compare: in every row rooftop finds that not "
                     "even batch 1 fits (--batch max)");
  if (!png.empty()) rep::write_parity_plot(png, serving_plot(cmp));
  if (json) {
    auto j = serving_json(pub, cmp, t);
    j["engine"] = engine.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(engine);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << serving_text(cmp, t);
    if (!engine.empty()) {
      const auto n = std::count_if(cmp.begin(), cmp.end(),
                                   [](const ServingComparison &c) { return c.engine_added; });
      std::cout << "Efficiency tables: --engine " << engine << "'s for " << n << " of "
                << cmp.size()
                << " rows (those that name no engine or table, on a GPU with such a table); "
                   "the others keep their own\n";
    }
  }
}

} // namespace

/// validate --calibration: rooftop's prediction of every measured case with the fitted (or a
/// given) efficiency table; the error over the held-out cases.
void run_calibration(const std::string &file, const std::string &efficiency_file, bool json,
                     const std::string &png) {
  const auto run = cal::load_calibration(file);
  hw::GpuSpec spec;
  try {
    spec = run.gpu == "host-cpu" ? cal::host_reference_spec(run.measurements, run.device)
           : std::filesystem::is_regular_file(run.gpu) ? hw::load_gpu(run.gpu)
                                                      : hw::GpuCatalogue::builtin().get(run.gpu);
  } catch (const InputError &e) {
    throw InputError(file + ": /gpu = \"" + run.gpu + "\": " + e.what());
  }
  if (run.gpu != "host-cpu" && hw::to_string(spec.architecture) != run.architecture) {
    throw InputError(file + ": /architecture = \"" + run.architecture + "\": " + spec.id + " is " +
                     hw::to_string(spec.architecture));
  }
  hw::Efficiency eff;
  if (!efficiency_file.empty()) {
    eff = hw::load_default_efficiency(efficiency_file, spec);
  } else {
    const auto defaults = hw::load_default_efficiency(data_dir() / "hardware" / "efficiency.json", spec);
    eff = cal::fit(run.measurements, spec, defaults).efficiency;
  }
  std::vector<CaseError> errors;
  try {
    errors = compare_measurements(run.measurements, spec, eff);
  } catch (const InputError &e) { // e.g. a layer case naming a model this machine cannot load
    throw InputError(file + ": /measurements: " + e.what());
  }
  if (errors.empty())
    throw InputError(file + ": /measurements: nothing to compare: " +
                     (run.measurements.empty()
                          ? std::string("the file holds no measurement")
                          : "all " + std::to_string(run.measurements.size()) +
                                " measurements were skipped or failed (see their skip_reason)"));
  if (!png.empty()) rep::write_parity_plot(png, calibration_plot(errors, spec.id));
  if (json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    std::vector<double> held;
    std::map<std::string, std::vector<double>> held_by_group;
    for (const auto &e : errors) {
      rows.push_back({{"id", e.m->c.id},
                      {"kind", cal::to_string(e.m->c.kind)},
                      {"group", e.group},
                      {"measured_s", e.m->median_s},
                      {"predicted_s", e.predicted_s},
                      {"relative_error", e.relative_error},
                      {"held_out", e.held_out}});
      if (e.held_out) {
        held.push_back(e.relative_error);
        held_by_group[e.group].push_back(e.relative_error);
      }
    }
    const auto sum = sim::summarize_errors(held);
    nlohmann::ordered_json groups = nlohmann::ordered_json::object();
    for (const auto &[g, errs] : held_by_group) {
      const auto gs = sim::summarize_errors(errs);
      groups[g] = {{"count", gs.count},
                   {"median_abs_relative_error", gs.median_abs},
                   {"p90_abs_relative_error", gs.p90_abs},
                   {"max_abs_relative_error", gs.max_abs}};
    }
    std::cout << nlohmann::ordered_json{{"schema", "rooftop.validation/1"},
                                        {"calibration", file},
                                        {"gpu", spec.id},
                                        {"efficiency_origin", hw::to_string(eff.origin)},
                                        {"rows", rows},
                                        {"held_out_summary",
                                         {{"count", sum.count},
                                          {"median_abs_relative_error", sum.median_abs},
                                          {"p90_abs_relative_error", sum.p90_abs},
                                          {"max_abs_relative_error", sum.max_abs}}},
                                        {"held_out_by_group", groups}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << fmt::format("{} measured on {} ({}), predicted by rooftop with {} efficiencies\n",
                           file, run.device.name, spec.id, hw::to_string(eff.origin));
  std::cout << held_out_table(errors);
}

void add_validate(CLI::App &app) {
  auto file = std::make_shared<std::string>();
  auto cal_file = std::make_shared<std::string>();
  auto eff_file = std::make_shared<std::string>();
  auto png = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto serving = std::make_shared<std::string>();
  auto engine = std::make_shared<std::string>();
  auto *v = app.add_subcommand("validate", "compare rooftop with published or measured figures");
  auto *nccl_opt = allow_no_value(
      v->add_option("--nccl-tests", *file,
                    "published nccl-tests rows (default data/validation/nccl_tests_published.json)"),
      "[FILE]");
  auto *serving_opt = allow_no_value(
      v->add_option("--serving", *serving,
                    "published end-to-end serving results, each estimated with its row's options "
                    "(default data/validation/serving_published.json)"),
      "[FILE]");
  v->add_option("--calibration", *cal_file,
                "a rooftop.calibration/1 file: predict every measured kernel and layer");
  v->add_option("--efficiency", *eff_file,
                "with --calibration: this efficiency table instead of refitting the file");
  v->add_option("--png", *png,
                "with --calibration or --serving: also plot rooftop against the measured or "
                "published figures (gnuplot)");
  v->add_option("--engine", *engine,
                "with --serving: estimate every row that names no engine and no table, on a GPU "
                "with a table of this engine, with it (vllm or trtllm; default: none, each row's own)");
  v->add_flag("--json", *json, "print rooftop.validation/1 JSON");
  v->callback([file, cal_file, eff_file, png, json, serving, serving_opt, nccl_opt, engine, v] {
    if (!engine->empty()) (void)checked_engine(*engine);
    if (serving_opt->count() > 0) {
      if (v->count("--nccl-tests") + v->count("--calibration") + v->count("--efficiency") > 0)
        throw InputError("--serving goes alone (with --json and --png): it takes no "
                         "--nccl-tests, --calibration or --efficiency");
      run_serving(optional_value(*serving_opt, *serving,
                                 data_dir() / "validation" / "serving_published.json"),
                  *json, *png, *engine);
      return;
    }
    if (!engine->empty()) throw InputError("--engine goes with --serving");
    if (!cal_file->empty()) {
      run_calibration(*cal_file, *eff_file, *json, *png);
      return;
    }
    if (!png->empty() || !eff_file->empty())
      throw InputError(!png->empty() ? "--png goes with --calibration FILE or --serving"
                                     : "--efficiency goes with --calibration FILE");
    run_nccl(optional_value(*nccl_opt, *file,
                            data_dir() / "validation" / "nccl_tests_published.json"),
             *json);
  });
}

} // namespace rooftop::cli
