// Tables behind each plot of report.html, and the sources of the figures used.
#include "reports/report_tables.hpp"

#include "reports/format.hpp"
#include "reports/plot_bars.hpp"

#include <fmt/format.h>

#include <set>

namespace rooftop::rep {
namespace {

using nlohmann::json;

json cell(const std::string &text, bool num = false) {
  return {{"text", text}, {"cls", num ? "num" : ""}};
}

/// One table; `id` becomes the HTML id "table-<id>".
json table(const std::string &id, const std::string &heading,
           const std::vector<std::string> &header, const json &rows,
           const std::string &note = "") {
  return {{"id", id}, {"heading", heading}, {"header", header}, {"rows", rows},
          {"note", note.empty() ? json(false) : json(note)}};
}

/// A layer group (OpResult::group; -1: not in a layer, e.g. the embedding).
std::string group_text(int group) { return group < 0 ? "-" : std::to_string(group); }

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
  roofs.push_back({{"cells", {cell(r.memory_type), cell(bandwidth(r.memory_bandwidth), true),
                              cell("")}}});
  json ops = json::array();
  for (const auto &pt : r.points) {
    const auto &o = *pt.op;
    ops.push_back({{"cells",
                    {cell(wl::to_string(o.phase)), cell(std::to_string(o.stage), true),
                     cell(group_text(o.group), true), cell(o.name), cell(wl::to_string(o.kind)),
                     cell(std::to_string(o.count), true), cell(flops(o.flops), true),
                     cell(bytes(o.bytes), true), cell(fmt::format("{:.2f}", pt.intensity), true),
                     cell(flops_rate(pt.achieved), true), cell(time(o.time), true),
                     cell(sim::to_string(o.bound))}}});
  }
  std::string note = "Stage: the pipeline stage (0 without PP); layer group: the model's layers "
                     "of one type (- for operators outside the layers).";
  if (r.per_stage)
    note += fmt::format(" With PP each stage has its own row (and point), and times are for the "
                        "largest of the {} micro-batches.",
                        r.microbatches);
  std::string omitted; // unique "phase name", in order (stages repeat them)
  std::set<std::string> seen;
  for (const auto &o : r.omitted)
    if (seen.insert(o).second) omitted += (omitted.empty() ? "" : ", ") + o;
  if (!omitted.empty())
    note += " Not on the plot (no FLOPs or no memory traffic; the collectives are in the "
            "Collectives table): " + omitted + ".";
  return json::array(
      {table("roofs", "Roofs (dense spec-sheet peaks)", {"roof", "peak", "ridge point (FLOP/B)"},
             roofs,
             fmt::format("Derated roof: {} GEMM peak x efficiency = {}; {} x efficiency = {}.",
                         r.gemm_dtype, flops_rate(r.effective_gemm_peak), r.memory_type,
                         bandwidth(r.effective_bandwidth))),
       table("operators",
             "Operators (per GPU; all layers of a group together; decode: mean step)",
             {"phase", "stage", "layer group", "operator", "kind", "layers", "work",
              r.memory_type + " traffic", "FLOP/B", "achieved", "time", "bound"},
             ops, note)});
}

json breakdown_table(const std::vector<PhaseBreakdown> &phases) {
  json rows = json::array();
  const auto row = [&](const PhaseBreakdown &ph, const std::string &what, Seconds t, double f) {
    rows.push_back({{"cells", {cell(wl::to_string(ph.phase)), cell(what), cell(time(t), true),
                               cell(percent(f), true)}}});
  };
  std::string note = "Prefill: one pass over the prompt (TTFT). Decode: the mean step (TPOT).";
  for (const auto &ph : phases) {
    for (const auto &k : ph.kinds) row(ph, wl::to_string(k.kind), k.time, k.fraction);
    if (ph.pipeline_wait.value() > 0)
      row(ph, k_pipeline_wait, ph.pipeline_wait, ph.pipeline_wait_fraction);
    row(ph, ph.phase == wl::Phase::prefill ? "phase time (TTFT)" : "phase time (TPOT)",
        ph.total, ph.total / ph.bar());
    if (ph.overlapped.value() > 0)
      note += fmt::format(" {}: the operators sum to {}, of which {} of collectives overlap "
                          "compute (--overlap-comm); shares are of the sum.",
                          wl::to_string(ph.phase), time(ph.operators), time(ph.overlapped));
  }
  if (!phases.empty() && (phases[0].pipeline_wait.value() > 0 ||
                          (phases.size() > 1 && phases[1].pipeline_wait.value() > 0)))
    note += " Pipeline wait: the phase time beyond the sum of the operators of one micro-batch "
            "over all stages (prefill: the other micro-batches follow one slowest stage apart; "
            "decode: the slowest stage serves every micro-batch before the next token).";
  return json::array({table("breakdown", "Time by operator kind",
                            {"phase", "kind", "time", "share"}, rows, note)});
}

json collectives_table(const std::vector<const sim::OpResult *> &ops) {
  json rows = json::array();
  for (const auto *o : ops) {
    const double calls = static_cast<double>(o->count);
    rows.push_back({{"cells",
                     {cell(wl::to_string(o->phase)), cell(std::to_string(o->stage), true),
                      cell(o->name), cell(o->collective), cell(o->comm_group),
                      cell(std::to_string(o->ranks), true),
                      cell(std::to_string(o->ranks_per_domain), true), cell(o->algorithm),
                      cell(o->protocol.empty() ? "-" : o->protocol),
                      cell(std::to_string(o->count), true),
                      cell(bytes(Bytes(calls > 0 ? o->comm_bytes.value() / calls : 0.0)), true),
                      cell(time(o->time), true)}}});
  }
  return json::array({table(
      "collectives", "Collectives (per GPU)",
      {"phase", "stage", "name", "collective", "group", "ranks", "ranks per domain",
       "algorithm", "protocol", "calls", "bytes per call", "time (all calls)"},
      rows,
      rows.empty() ? "No collectives: one GPU per replica."
                   : "Ranks per domain: the group's GPUs in one scale-up (NVLink) domain; bytes "
                     "per call: the nccl-tests message size.")});
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
                      cell(significant(p.decode_tokens_per_s), true),
                      cell(significant(p.output_tokens_per_s), true),
                      cell(time(p.ttft), true), cell(gb(p.memory_total), true),
                      cell(p.fits ? "yes" : "no"), cell(sim::to_string(p.decode_bound)),
                      cell(mark)}}});
  }
  return json::array({table("sweep", "Batch sweep",
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
  const std::string capacity =
      rows.empty() ? "capacity"
                   : "capacity (" + hw::capacity_label(rows.front().memory.capacity_source) + ")";
  return json::array({table("memory", "Memory per GPU",
                            {"", "weights", "KV cache", "activations", "reserve", "total",
                             capacity, "fits"},
                            out)});
}

json concat(json a, const json &b) {
  for (const auto &x : b) a.push_back(x);
  return a;
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
  json rows = json::array(
      {source_row("GEMM FLOP/s", percent(e.gemm_flops), src("gemm_flops_efficiency"))});
  // A calibrated table's curves, when it has them (origin and provenance name the calibration).
  for (const auto &[dt, v] : e.gemm_flops_by_dtype)
    rows.push_back(source_row("GEMM FLOP/s, " + dt + " (large M)", percent(v),
                              src("gemm_flops_efficiency_by_dtype")));
  for (const auto &[dt, v] : e.gemm_bandwidth_by_dtype)
    rows.push_back(source_row("GEMM memory-bound, " + dt + ": bandwidth + fixed cost",
                              percent(v) + " of " + gpu.memory_type + " + " +
                                  time(Seconds(e.gemm_overhead_by_dtype.count(dt)
                                                   ? e.gemm_overhead_by_dtype.at(dt)
                                                   : e.kernel_overhead.value())),
                              src("gemm_bandwidth_efficiency_by_dtype")));
  for (const auto &[dt, v] : e.gemm_quantize_by_dtype)
    rows.push_back(source_row("GEMM " + dt + ": activations converted from BF16 first, at",
                              percent(v) + " of " + gpu.memory_type,
                              src("gemm_quantize_bandwidth_efficiency_by_dtype")));
  // The table's curve and tile, then the input types with their own (gemm_curve_by_dtype),
  // which the model uses instead for GEMMs of that type.
  const std::string others = e.gemm_curve_by_dtype.empty() ? "" : " (types not listed below)";
  if (e.gemm_m_half > 0)
    rows.push_back(source_row("GEMM small-M curve" + others + ": half at M =",
                              fmt::format("{:.0f} rows", e.gemm_m_half), src("gemm_m_half")));
  if (e.gemm_tile_m > 0)
    rows.push_back(source_row("GEMM wave quantization tile" + others,
                              fmt::format("{:.0f} x {:.0f}", e.gemm_tile_m, e.gemm_tile_n),
                              src("gemm_tile_m")));
  for (const auto &[dt, c] : e.gemm_curve_by_dtype)
    rows.push_back(source_row(
        "GEMM small-M curve and wave tile, " + dt,
        (c.m_half > 0 ? fmt::format("half at M = {:.0f} rows", c.m_half) : std::string("no curve")) +
            (c.tile_m > 0 ? fmt::format(", {:.0f} x {:.0f} tiles", c.tile_m, c.tile_n)
                          : std::string(", no tile")),
        src("gemm_curve_by_dtype")));
  rows.push_back(source_row("attention FLOP/s", percent(e.attention_flops),
                            src("attention_flops_efficiency")));
  if (e.attention_bandwidth > 0)
    rows.push_back(source_row("attention memory bandwidth",
                              percent(e.attention_bandwidth) +
                                  (e.attention_context_half > 0
                                       ? fmt::format(", half at context {:.0f}", e.attention_context_half)
                                       : std::string()),
                              src("attention_bandwidth_efficiency")));
  if (e.attention_prefill_bandwidth > 0)
    rows.push_back(source_row("attention memory bandwidth, prefill",
                              percent(e.attention_prefill_bandwidth),
                              src("attention_prefill_bandwidth_efficiency")));
  if (e.additive_attention())
    rows.push_back(source_row("attention fixed cost + per (sequence, KV head)",
                              time(e.attention_fixed) + " + " +
                                  fmt::format("{:.1f} ns", 1e9 * e.attention_item.value()),
                              src("attention_fixed_s")));
  if (e.additive_attention()) // the terms apply only to the additive cost
    for (const auto &[dt, a] : e.attention_decode_by_kv_dtype)
      rows.push_back(source_row("attention, decode with a KV cache of " + dt,
                                time(a.fixed) + " + " +
                                    fmt::format("{:.1f} ns", 1e9 * a.item.value()) +
                                    " per (sequence, KV head), " + percent(a.bandwidth) + " of " +
                                    gpu.memory_type,
                                src("attention_decode_by_kv_dtype")));
  if (!e.allreduce.empty() && !e.allreduce.off) {
    std::string ranks;
    for (const auto &[n, c] : e.allreduce.by_ranks)
      ranks += (ranks.empty() ? "" : ", ") + std::to_string(n);
    rows.push_back(source_row("TP all-reduce in one " + e.allreduce.scale_up_link +
                                  " NVSwitch domain (" + ranks + " GPUs)",
                              "measured curve", e.allreduce.implementation));
  }
  return concat(rows, json::array(
      {source_row("memory bandwidth (" + gpu.memory_type + ")", percent(e.hbm_bandwidth),
                  src("hbm_bandwidth_efficiency")),
       source_row("link bandwidth (collectives)", percent(e.link_bandwidth),
                  src("nvlink_bandwidth_efficiency")),
       source_row("per-kernel overhead", time(e.kernel_overhead), src("kernel_overhead_s")),
       source_row("per-collective latency", time(e.collective_latency),
                  src("collective_latency_s"))}));
}

json gpu_figure_table(const hw::GpuSpec &gpu) {
  json rows = json::array();
  rows.push_back(source_row("memory capacity (datasheet)", gb(gpu.memory_datasheet),
                            lookup(gpu.sources, "/memory/capacity_bytes")));
  if (gpu.memory_reported)
    rows.push_back(source_row("memory capacity (nvidia-smi total, used)",
                              gb(*gpu.memory_reported),
                              lookup(gpu.sources, "/memory/reported_bytes")));
  rows.push_back(source_row("memory bandwidth", bandwidth(gpu.memory_bandwidth),
                            lookup(gpu.sources, "/memory/bandwidth_Bps")));
  for (const auto &[type, peak] : gpu.dense_flops.entries())
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
              std::string("Each prefill (circle) and decode (triangle) operator at its "
                          "arithmetic intensity and achieved FLOP/s (its FLOPs over its time, "
                          "kernel overheads included)") +
                  (p.roofline.per_stage || p.roofline.per_group
                       ? ", one point per layer group and pipeline stage (points of stages or "
                         "groups that cost the same coincide; the table lists each)"
                       : "") +
                  ". Solid: the spec-sheet roofs; dashed: the roof after the efficiencies below.",
              svgs, 0, roofline_tables(p.roofline)),
       figure("breakdown", "Time by operator kind",
              "Share of the prefill pass and of the mean decode step per operator kind; with "
              "pipeline parallelism, the pipeline wait (grey) completes the phase time.",
              svgs, 1, concat(breakdown_table(p.breakdown), collectives_table(p.collectives))),
       figure("batch_sweep", "Decode versus batch size",
              "The same deployment at other batch sizes: where decode turns compute-bound and "
              "where memory runs out.",
              svgs, 2, sweep_table(p.sweep)),
       figure("memory", "Memory per GPU",
              "Weights, KV cache, prefill activations and the runtime reserve against the "
              "GPU's capacity (the total nvidia-smi reports where known, else the datasheet's).",
              svgs, 3, memory_table(p.memory))});
}

} // namespace rooftop::rep
