// Tables behind each plot of report.html, and the sources of the figures used.
#include "reports/report_tables.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

namespace rooftop::rep {
namespace {

using nlohmann::json;

json cell(const std::string &text, bool num = false) {
  return {{"text", text}, {"cls", num ? "num" : ""}};
}

json table(const std::string &heading, const std::vector<std::string> &header,
           const json &rows, const std::string &note = "") {
  return {{"heading", heading}, {"header", header}, {"rows", rows},
          {"note", note.empty() ? json(false) : json(note)}};
}

json source_row(const std::string &key, const std::string &value, const std::string &source) {
  return {{"key", key}, {"value", value}, {"source", source.empty() ? "-" : source}};
}

std::string lookup(const std::map<std::string, std::string> &m, const std::string &k) {
  const auto it = m.find(k);
  return it == m.end() ? "" : it->second;
}

json roofline_tables(const RooflineData &r) {
  json roofs = json::array();
  for (const auto &roof : r.roofs)
    roofs.push_back({{"cells", {cell(roof.label), cell(flops_rate(roof.peak), true),
                                cell(fmt::format("{:.0f}", roof.peak / r.memory_bandwidth),
                                     true)}}});
  roofs.push_back({{"cells", {cell("HBM"), cell(bandwidth(r.memory_bandwidth), true), cell("")}}});
  json ops = json::array();
  for (const auto &pt : r.points) {
    const auto &o = *pt.op;
    ops.push_back({{"cells",
                    {cell(wl::to_string(o.phase)), cell(o.name), cell(wl::to_string(o.kind)),
                     cell(std::to_string(o.count), true), cell(flops(o.flops), true),
                     cell(bytes(o.bytes), true), cell(fmt::format("{:.2f}", pt.intensity), true),
                     cell(flops_rate(pt.achieved), true), cell(time(o.time), true),
                     cell(sim::to_string(o.bound))}}});
  }
  std::string omitted;
  for (const auto &s : r.omitted) omitted += (omitted.empty() ? "" : ", ") + s;
  return json::array(
      {table("Roofs (dense spec-sheet peaks)", {"roof", "peak", "ridge point (FLOP/B)"}, roofs,
             fmt::format("Derated roof: {} GEMM peak x efficiency = {}; HBM x efficiency = {}.",
                         r.gemm_dtype, flops_rate(r.effective_gemm_peak),
                         bandwidth(r.effective_bandwidth))),
       table("Operators (per GPU; all layers of a type together; decode: mean step)",
             {"phase", "operator", "kind", "layers", "work", "HBM traffic", "FLOP/B",
              "achieved", "time", "bound"},
             ops,
             omitted.empty() ? "" : "Not on the plot (no FLOPs: collectives): " + omitted + ".")});
}

json breakdown_table(const std::vector<PhaseBreakdown> &phases) {
  json rows = json::array();
  for (const auto &ph : phases)
    for (const auto &k : ph.kinds)
      rows.push_back({{"cells", {cell(wl::to_string(ph.phase)), cell(wl::to_string(k.kind)),
                                 cell(time(k.time), true), cell(percent(k.fraction), true)}}});
  return json::array({table("Time by operator kind", {"phase", "kind", "time", "share"}, rows,
                            "Prefill: one pass over the prompt (TTFT). Decode: the mean step "
                            "(TPOT).")});
}

json sweep_table(const BatchSweep &w) {
  json rows = json::array();
  for (const auto &p : w.points) {
    std::string mark = p.batch == w.chosen_batch ? "this run" : "";
    if (p.batch == w.max_batch) mark += std::string(mark.empty() ? "" : ", ") + "largest that fits";
    if (p.batch == w.first_compute_bound)
      mark += std::string(mark.empty() ? "" : ", ") + "first compute-bound";
    rows.push_back({{"cells",
                     {cell(std::to_string(p.batch), true), cell(time(p.tpot), true),
                      cell(fmt::format("{:.0f}", p.decode_tokens_per_s), true),
                      cell(fmt::format("{:.0f}", p.output_tokens_per_s), true),
                      cell(time(p.ttft), true), cell(gb(p.memory_total), true),
                      cell(p.fits ? "yes" : "no"), cell(sim::to_string(p.decode_bound)),
                      cell(mark)}}});
  }
  return json::array({table("Batch sweep",
                            {"batch", "TPOT", "decode tokens/s", "output tokens/s", "TTFT",
                             "memory per GPU", "fits", "decode bound", ""},
                            rows, "Throughputs are for all replicas.")});
}

json memory_table(const std::vector<MemoryRow> &rows) {
  json out = json::array();
  for (const auto &r : rows) {
    const auto &m = r.memory;
    out.push_back({{"cells", {cell(r.label), cell(gb(m.weights), true), cell(gb(m.kv_cache), true),
                              cell(gb(m.activations), true), cell(gb(m.reserved), true),
                              cell(gb(m.total()), true), cell(gb(m.capacity), true),
                              cell(m.fits() ? "yes" : "no")}}});
  }
  return json::array({table("Memory per GPU",
                            {"", "weights", "KV cache", "activations", "reserve", "total",
                             "capacity", "fits"},
                            out)});
}

json figure(const std::string &name, const std::string &title, const std::string &caption,
            const std::vector<std::string> &svgs, std::size_t i, json tables) {
  return {{"name", name}, {"title", title}, {"caption", caption},
          {"svg", i < svgs.size() ? svgs[i] : ""}, {"tables", std::move(tables)}};
}

} // namespace

json efficiency_table(const hw::Efficiency &e, const hw::GpuSpec &gpu) {
  const std::string arch = "/per_architecture/" + hw::to_string(gpu.architecture) + "/";
  const auto src = [&](const std::string &field) {
    const auto s = lookup(e.sources, arch + field);
    return s.empty() ? lookup(e.sources, "/defaults/" + field) : s;
  };
  return json::array(
      {source_row("GEMM FLOP/s", percent(e.gemm_flops), src("gemm_flops_efficiency")),
       source_row("attention FLOP/s", percent(e.attention_flops),
                  src("attention_flops_efficiency")),
       source_row("HBM bandwidth", percent(e.hbm_bandwidth), src("hbm_bandwidth_efficiency")),
       source_row("link bandwidth (collectives)", percent(e.link_bandwidth),
                  src("nvlink_bandwidth_efficiency")),
       source_row("per-kernel overhead", time(e.kernel_overhead), src("kernel_overhead_s")),
       source_row("per-collective latency", time(e.collective_latency),
                  src("collective_latency_s"))});
}

json gpu_figure_table(const hw::GpuSpec &gpu) {
  json rows = json::array();
  rows.push_back(source_row("memory capacity", gb(gpu.memory_capacity),
                            lookup(gpu.sources, "/memory/capacity_bytes")));
  rows.push_back(source_row("memory bandwidth", bandwidth(gpu.memory_bandwidth),
                            lookup(gpu.sources, "/memory/bandwidth_Bps")));
  for (const auto &[type, peak] : gpu.dense_flops)
    rows.push_back(source_row("dense " + type, flops_rate(peak),
                              lookup(gpu.sources, "/dense_flops_per_s/" + type)));
  if (gpu.nvlink)
    rows.push_back(source_row("NVLink (bidirectional)",
                              bandwidth(gpu.nvlink->bandwidth_bidirectional),
                              lookup(gpu.sources, "/nvlink/bandwidth_bidirectional_Bps")));
  return rows;
}

json figure_entries(const PlotData &p, const std::vector<std::string> &svgs) {
  return json::array(
      {figure("roofline", "Roofline",
              "Each prefill (circle) and decode (triangle) operator at its arithmetic intensity "
              "and achieved FLOP/s (its FLOPs over its time, kernel overheads included). Solid: "
              "the spec-sheet roofs; dashed: the roof after the efficiencies below.",
              svgs, 0, roofline_tables(p.roofline)),
       figure("breakdown", "Time by operator kind",
              "Share of the prefill pass and of the mean decode step per operator kind.", svgs,
              1, breakdown_table(p.breakdown)),
       figure("batch_sweep", "Decode versus batch size",
              "The same deployment at other batch sizes: where decode turns compute-bound and "
              "where memory runs out.",
              svgs, 2, sweep_table(p.sweep)),
       figure("memory", "Memory per GPU",
              "Weights, KV cache, prefill activations and the runtime reserve against the "
              "GPU's capacity.",
              svgs, 3, memory_table(p.memory))});
}

} // namespace rooftop::rep
