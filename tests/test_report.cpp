// reports/: the tables behind the report's plots, SVG inlining and the HTML template (no gnuplot).
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "core/paths.hpp"
#include "reports/gnuplot.hpp"
#include "reports/format.hpp"
#include "reports/html_report.hpp"
#include "reports/plot_bars.hpp"
#include "reports/plot_data.hpp"
#include "reports/plots.hpp"
#include "reports/report_tables.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <set>
#include <string>

using namespace rooftop;

namespace {

struct Fixture {
  const hw::GpuSpec &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  wl::ModelSpec model = wl::resolve_model("llama-3.1-8b");
  hw::Efficiency eff = hw::builtin_efficiency(gpu);
  sim::EstimateOptions opts;
  wl::Deployment d;
  sim::Estimate e;
  Fixture() {
    d.batch = 16;
    d.input_len = 512;
    d.output_len = 64;
    sim::resolve_dtypes(model, gpu, d, false, false);
    e = sim::estimate(gpu, model, d, eff, opts);
  }
};

bool contains(const std::string &hay, const std::string &needle) {
  return hay.find(needle) != std::string::npos;
}

std::size_t count(const std::string &hay, const std::string &needle) {
  std::size_t n = 0;
  for (auto i = hay.find(needle); i != std::string::npos; i = hay.find(needle, i + 1)) ++n;
  return n;
}

/// The value shown on the key-figure card `key` of report.html ("" when there is none).
std::string card_value(const std::string &html, const std::string &key) {
  const std::string k = "<div class=\"k\">" + key + "</div><div class=\"v\">";
  const auto i = html.find(k);
  if (i == std::string::npos) return "";
  const auto start = i + k.size();
  return html.substr(start, html.find("</div>", start) - start);
}

/// The whole card `key` (its class, value, tag and note).
std::string card(const std::string &html, const std::string &key) {
  const auto i = html.find("<div class=\"k\">" + key + "</div>");
  if (i == std::string::npos) return "";
  const auto start = html.rfind("<div class=\"card", i);
  return html.substr(start, html.find("</div></div>", i) - start);
}

/// An estimate of `model` on `gpu` with a mapping, and everything the report needs.
struct Case {
  const hw::GpuSpec &gpu;
  wl::ModelSpec model;
  hw::Efficiency eff;
  sim::EstimateOptions opts;
  wl::Deployment d;
  sim::Estimate e;
  Case(const std::string &gpu_id, const std::string &model_id, long long tp, long long pp,
       long long ep, long long batch, long long dp = 1)
      : gpu(hw::GpuCatalogue::builtin().get(gpu_id)), model(wl::resolve_model(model_id)),
        eff(hw::builtin_efficiency(gpu)) {
    d.tp = tp;
    d.pp = pp;
    d.ep = ep;
    d.dp = dp;
    d.batch = batch;
    d.input_len = 1024;
    d.output_len = 256;
    sim::resolve_dtypes(model, gpu, d, false, false);
    e = sim::estimate(gpu, model, d, eff, opts);
  }
  [[nodiscard]] rep::PlotData data() const {
    return rep::plot_data(gpu, model, d, eff, opts, e);
  }
  [[nodiscard]] std::string html(const std::string &command = "rooftop report") const {
    const rep::EstimateInputs in{model, gpu, d, eff};
    return rep::report_html(in, e, opts, data(), {}, command);
  }
};

} // namespace

TEST_CASE("roofline data: every operator with FLOPs at F/B and F/t, and equal peaks share a roof") {
  const Fixture f;
  const auto r = rep::roofline_data(f.gpu, f.eff, f.d, f.e);
  REQUIRE(!r.points.empty());
  CHECK(r.points.size() + r.omitted.size() == f.e.ops.size());
  for (const auto &p : r.points) {
    CHECK(p.intensity == doctest::Approx(p.op->flops.value() / p.op->bytes.value()));
    CHECK(p.achieved.value() == doctest::Approx(p.op->flops.value() / p.op->time.value()));
    // Nothing beats the spec roof: achieved <= min(peak, BW x I).
    CHECK(p.achieved.value() <=
          std::min(r.roofs.front().peak.value(), r.memory_bandwidth.value() * p.intensity) *
              (1 + 1e-9));
  }
  // H100 SXM: bf16 = fp16 = 989.5 TFLOP/s and fp8 = int8 = 1979 -> "fp8/int8", "bf16/fp16", fp32.
  REQUIRE(r.roofs.size() == 3);
  CHECK(r.roofs[0].label == "fp8/int8");
  CHECK(r.roofs[1].label == "bf16/fp16");
  CHECK(r.roofs[2].label == "fp32");
  // Derated: 3.35e12 B/s x 0.90 (Hopper HBM efficiency).
  CHECK(r.effective_bandwidth.value() == doctest::Approx(3.35e12 * f.eff.hbm_bandwidth));
}

TEST_CASE("time breakdown: per phase, kinds sum to the phase time, largest first") {
  const Fixture f;
  const auto b = rep::time_breakdown(f.e);
  REQUIRE(b.size() == 2);
  CHECK(b[0].total.value() == doctest::Approx(f.e.prefill.time.value()));
  CHECK(b[1].total.value() == doctest::Approx(f.e.decode.time.value()));
  for (const auto &ph : b) {
    double sum = 0;
    for (std::size_t i = 0; i < ph.kinds.size(); ++i) {
      sum += ph.kinds[i].fraction;
      if (i) CHECK(ph.kinds[i - 1].time >= ph.kinds[i].time);
    }
    CHECK(sum == doctest::Approx(1.0));
    CHECK(ph.pipeline_wait.value() == 0); // no PP: the operators are the phase
    CHECK(ph.overlapped.value() == 0);
  }
}

TEST_CASE("time breakdown with PP: a pipeline wait makes the shares add up to TTFT and TPOT") {
  // Llama-3.1-70B, TP=4 x PP=2, batch 32 -> 2 micro-batches of 16. The operators are one
  // micro-batch through both stages; prefill adds (2 - 1) x the slowest stage.
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto model = wl::resolve_model("llama-3.1-70b");
  wl::Deployment d;
  d.tp = 4;
  d.pp = 2;
  d.batch = 32;
  d.input_len = 1024;
  d.output_len = 128;
  sim::resolve_dtypes(model, gpu, d, false, false);
  const auto eff = hw::builtin_efficiency(gpu);
  const auto e = sim::estimate(gpu, model, d, eff);
  REQUIRE(e.microbatches.count == 2);
  const auto b = rep::time_breakdown(e);
  REQUIRE(b.size() == 2);
  CHECK(b[0].total.value() == doctest::Approx(e.ttft.value()));
  CHECK(b[1].total.value() == doctest::Approx(e.tpot.value()));
  CHECK(b[0].pipeline_wait.value() > 0.2 * e.ttft.value()); // about a third: 1 of 3 slots
  for (const auto &ph : b) {
    double sum = ph.pipeline_wait_fraction;
    for (const auto &k : ph.kinds) sum += k.fraction;
    CHECK(sum == doctest::Approx(1.0));
    CHECK((ph.operators + ph.pipeline_wait).value() == doctest::Approx(ph.total.value()));
  }
  // The bar and its table show the wait.
  const auto bars = rep::breakdown_plot(b);
  CHECK(contains(bars.body, "title \"pipeline wait\""));
  const rep::PlotData data{rep::roofline_data(gpu, eff, d, e), b, {}, {}, rep::collectives(e)};
  const auto figs = rep::figure_entries(data, {});
  CHECK(contains(figs.dump(), "pipeline wait"));
  // Operators of both stages are listed with their stage; the roofline says it is per stage.
  CHECK(data.roofline.per_stage);
  CHECK(contains(rep::plot_scripts(data, gpu.name)[0].body, "one point per pipeline stage"));
  const auto &ops = figs[0]["tables"][1];
  CHECK(ops["header"][1] == "stage");
  CHECK(ops["header"][2] == "layer group");
  std::set<std::string> stages;
  for (const auto &row : ops["rows"]) stages.insert(row["cells"][1]["text"].get<std::string>());
  CHECK(stages == std::set<std::string>{"0", "1"});
}

TEST_CASE("batch sweep: powers of two past max_batch, the run's batch, the compute-bound edge") {
  const Fixture f;
  const auto s = rep::batch_sweep(f.gpu, f.model, f.d, f.eff, f.opts, f.e.memory.max_batch);
  REQUIRE(f.e.memory.max_batch > 1);
  std::set<long long> batches;
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    batches.insert(s.points[i].batch);
    if (i) CHECK(s.points[i - 1].batch < s.points[i].batch);
    // Fits exactly up to max_batch.
    CHECK(s.points[i].fits == (s.points[i].batch <= f.e.memory.max_batch));
  }
  CHECK(batches.count(1));
  CHECK(batches.count(16));
  CHECK(batches.count(f.e.memory.max_batch));
  CHECK(s.points.back().batch > f.e.memory.max_batch);
  const auto at = [&](long long b) {
    wl::Deployment d = f.d;
    d.batch = b;
    return sim::estimate(f.gpu, f.model, d, f.eff, f.opts);
  };
  // A 512-token context keeps this decode memory-bound at every batch the sweep tries.
  CHECK(s.first_compute_bound == 0);
  CHECK(at(s.points.back().batch).decode.bound != sim::Bound::compute);
}

TEST_CASE("batch sweep: the compute-bound edge is found where decode turns compute-bound") {
  // A 16-token context: the weights dominate the bytes, so a large enough batch is compute-bound.
  Fixture f;
  f.d.input_len = 16;
  f.d.output_len = 2;
  f.e = sim::estimate(f.gpu, f.model, f.d, f.eff, f.opts);
  const auto s = rep::batch_sweep(f.gpu, f.model, f.d, f.eff, f.opts, f.e.memory.max_batch);
  const auto at = [&](long long b) {
    wl::Deployment d = f.d;
    d.batch = b;
    return sim::estimate(f.gpu, f.model, d, f.eff, f.opts);
  };
  REQUIRE(s.first_compute_bound > 1);
  CHECK(at(s.first_compute_bound).decode.bound == sim::Bound::compute);
  CHECK(at(s.first_compute_bound - 1).decode.bound != sim::Bound::compute);
}

TEST_CASE("memory rows: the run's batch, then the largest that fits") {
  const Fixture f;
  const auto rows = rep::memory_rows(f.gpu, f.model, f.d, f.opts, f.e.memory);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].batch == 16);
  CHECK(rows[1].batch == f.e.memory.max_batch);
  CHECK(rows[1].memory.fits());
  CHECK(rows[1].memory.weights == rows[0].memory.weights);
}

TEST_CASE("the HTML report and memory plot say which capacity figure they use") {
  // H100: the nvidia-smi total 85.52 GB (81559 MiB), with the datasheet's 80 GB beside it.
  const Case h100("h100-sxm", "llama-3.1-8b", 1, 1, 1, 1);
  const auto html = h100.html();
  CHECK(contains(html, "80.00 GB HBM3 (datasheet; nvidia-smi reports 85.52 GB)"));
  CHECK(contains(html, "capacity (nvidia-smi total)"));
  CHECK(contains(html, "memory capacity (nvidia-smi total, used)"));
  CHECK(contains(html, "capacity: nvidia-smi total"));
  CHECK(contains(rep::plot_scripts(h100.data(), h100.gpu.name)[3].body,
                 "capacity 85.52 GB (nvidia-smi total)"));
  // Rubin: no reported total, so the datasheet's 288 GB, labelled as such.
  const Case rubin("rubin", "llama-3.1-8b", 1, 1, 1, 1);
  CHECK(contains(rubin.html(), "capacity (datasheet figure: no reported total)"));
  CHECK(contains(rubin.html(), "288.00 GB HBM4 (datasheet), 22.00 TB/s"));
  CHECK(contains(rep::plot_scripts(rubin.data(), rubin.gpu.name)[3].body,
                 "capacity 288.00 GB (datasheet figure: no reported total)"));
}

TEST_CASE("inline_svg drops the XML prolog and prefixes ids and their references") {
  const std::string svg = "<?xml version=\"1.0\"?>\n<svg><defs><path id='gpPt1'/>"
                          "<use xlink:href='#gpPt1' id='gpPt11'/></defs><g id=\"c\" "
                          "fill='#FFFFFF' filter='url(#c)'><use xlink:href='#gpPt11'/></g></svg>";
  const auto out = rep::inline_svg(svg, "p-");
  CHECK(out.rfind("<svg>", 0) == 0);
  CHECK(contains(out, "id='p-gpPt1'"));
  CHECK(contains(out, "href='#p-gpPt1'"));
  CHECK(contains(out, "href='#p-gpPt11'"));
  CHECK(contains(out, "id=\"p-c\""));
  CHECK(contains(out, "url(#p-c)"));
  CHECK(contains(out, "fill='#FFFFFF'")); // a colour, not an id
  CHECK_THROWS(rep::inline_svg("not svg", "p-"));
}

TEST_CASE("gnuplot strings are quoted and escaped") {
  CHECK(rep::gp_quote("a_b") == "\"a_b\"");
  CHECK(rep::gp_quote("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
  CHECK(rep::gp_quote("two\nlines") == "\"two\\nlines\"");
}

TEST_CASE("plot scripts: four plots drawn to PNG and SVG, with their data files") {
  const Fixture f;
  const auto data = rep::plot_data(f.gpu, f.model, f.d, f.eff, f.opts, f.e);
  const auto plots = rep::plot_scripts(data, f.gpu.name);
  REQUIRE(plots.size() == 4);
  CHECK(plots[0].name == "roofline");
  CHECK(plots[0].width == rep::k_roofline_size[0]);
  for (const auto &p : plots) {
    const auto s = rep::full_script(p);
    CHECK(contains(s, "set terminal pngcairo size " + std::to_string(p.width) + "," +
                          std::to_string(p.height)));
    CHECK(contains(s, "set output \"../" + p.name + ".png\""));
    CHECK(contains(s, "set terminal svg"));
    CHECK(contains(s, "set title"));
    CHECK(contains(s, "set xlabel"));
    REQUIRE(!p.data.empty());
    CHECK(contains(s, p.data.front().first));
  }
}

TEST_CASE("report.html: inputs, key figures, plots inline, tables, sources, version") {
  const Fixture f;
  const auto data = rep::plot_data(f.gpu, f.model, f.d, f.eff, f.opts, f.e);
  const rep::EstimateInputs in{f.model, f.gpu, f.d, f.eff};
  const std::vector<std::string> svgs{"<svg id='a'>A</svg>", "<svg id='b'>B</svg>",
                                      "<svg id='c'>C</svg>", "<svg id='d'>D</svg>"};
  const auto html = rep::report_html(in, f.e, f.opts, data, svgs, "rooftop report <x>");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  for (const auto &s : svgs) CHECK(contains(html, s)); // inline, unescaped
  CHECK(contains(html, "rooftop report &lt;x&gt;"));   // text is escaped
  for (const char *needle : {"TTFT", "TPOT", "throughput", "memory per GPU", "-bound",
                             "llama-3.1-8b", "NVIDIA H100 SXM5 80GB", "Where the efficiencies",
                             "id=\"plot-roofline\"", "id=\"plot-memory\"", "Batch sweep",
                             "decode bound", "memory bandwidth (HBM3)", "Content-Security-Policy"})
    CHECK_MESSAGE(contains(html, needle), needle);
  CHECK(contains(html, rep::version()));
  CHECK(contains(html, rep::git_sha()));
  // Where the efficiencies come from is shown: H100's committed calibration table.
  REQUIRE(f.eff.origin == hw::EfficiencyOrigin::measured);
  CHECK(contains(html, "calibration/h100-sxm/efficiency.json"));
  CHECK(!contains(html, "http://")); // nothing to fetch (real SVGs add only xmlns)
  CHECK(!contains(html, "https://cdn"));
}

TEST_CASE("render_template refuses an unknown template") {
  CHECK_THROWS(rep::render_template("nope.html", nlohmann::json::object()));
}

TEST_CASE("key figures: the cards show the estimate's TTFT, TPOT and throughput as formatted") {
  // Llama-3.1-405B on one H100 does not fit, and its throughput is a few tokens/s: a figure
  // that rounding to an integer would turn from 3.66 into 4.
  const Case c("h100-sxm", "llama-3.1-405b", 1, 1, 1, 1);
  REQUIRE(c.e.output_tokens_per_s < 10);
  const auto html = c.html();
  CHECK(card_value(html, "TTFT") == rep::time(c.e.ttft));
  CHECK(card_value(html, "TPOT") == rep::time(c.e.tpot));
  CHECK(card_value(html, "end-to-end latency") == rep::time(c.e.e2e_latency));
  const std::string tput = card_value(html, "throughput");
  CHECK(tput == rep::significant(c.e.output_tokens_per_s) + " tokens/s");
  // 3 significant figures: within 0.5% of the estimate.
  CHECK(std::strtod(tput.c_str(), nullptr) ==
        doctest::Approx(c.e.output_tokens_per_s).epsilon(0.005));
  // One GPU: singular.
  CHECK(contains(card(html, "throughput"), "the 1 GPU;"));
  CHECK(!contains(html, "1 GPUs"));
  // It does not fit: every timing card is greyed and tagged, the memory card is red.
  for (const char *key : {"TTFT", "TPOT", "end-to-end latency", "throughput", "prefill", "decode"})
    CHECK_MESSAGE(card(html, key).rfind("<div class=\"card nofit\">", 0) == 0, key);
  CHECK(count(html, "does not fit: hypothetical") == 6);
  CHECK(card(html, "memory per GPU").rfind("<div class=\"card bad\">", 0) == 0);
  // One that fits: plain cards, no tag.
  const Fixture f;
  const rep::EstimateInputs in{f.model, f.gpu, f.d, f.eff};
  const auto ok = rep::report_html(in, f.e, f.opts, rep::plot_data(f.gpu, f.model, f.d, f.eff,
                                                                     f.opts, f.e),
                                   {}, "rooftop report");
  CHECK(card_value(ok, "TTFT") == rep::time(f.e.ttft));
  CHECK(card(ok, "TTFT").rfind("<div class=\"card \">", 0) == 0);
  CHECK(!contains(ok, "does not fit: hypothetical"));
}

TEST_CASE("significant figures and counted nouns") {
  CHECK(rep::significant(3.66) == "3.66");
  CHECK(rep::significant(36.64) == "36.6");
  CHECK(rep::significant(366.4) == "366");
  CHECK(rep::significant(1234.4) == "1234");
  CHECK(rep::significant(0.012345) == "0.0123");
  CHECK(rep::significant(0) == "0");
  CHECK(rep::counted(1, "GPU") == "1 GPU");
  CHECK(rep::counted(8, "GPU") == "8 GPUs");
}

TEST_CASE("report inputs: the parallel mapping, system, overlap and pipeline") {
  const Case c("h100-sxm", "llama-3.1-70b", 4, 2, 1, 32);
  REQUIRE(c.e.microbatches.count == 2);
  const auto html = c.html();
  for (const char *needle :
       {"TP=4, PP=2, CP=1, EP=1, DP=1", "collectives not overlapped",
        "2 stages, 2 micro-batches of 16 sequences; prefill bubble 33.3%", "<th>pipeline</th>",
        "<th>system</th>"})
    CHECK_MESSAGE(contains(html, needle), needle);
  // The subtitle holds the mapping and the system with its node count.
  const auto sub = html.substr(html.find("id=\"subtitle\""), 400);
  CHECK(contains(sub, "TP=4, PP=2"));
  CHECK(contains(sub, rep::counted(c.e.nodes, "node") + " x " + c.e.system));
  CHECK(contains(sub, "prefill bubble 33.3%"));
  // Overlap is named when on.
  Case o("h100-sxm", "llama-3.1-8b", 2, 1, 1, 4);
  o.d.overlap_comm = true;
  o.e = sim::estimate(o.gpu, o.model, o.d, o.eff, o.opts);
  CHECK(contains(o.html(), "collectives overlapped with compute"));
}

TEST_CASE("an uneven micro-batch split is shown as it is, in text, JSON and the report") {
  // batch 33 over 2 stages: micro-batches of 17 and 16 sequences
  const Case c("h100-sxm", "llama-3.1-70b", 4, 2, 1, 33);
  CHECK(rep::microbatch_text(c.e.microbatches) == "2 micro-batches: 1 of 17 sequences, 1 of 16");
  CHECK(rep::microbatch_text({2, 16, 0}) == "2 micro-batches of 16 sequences");
  const rep::EstimateInputs in{c.model, c.gpu, c.d, c.eff};
  const auto j = rep::estimate_json(in, c.e);
  CHECK(j.at("pipeline").at("microbatch_sizes") == nlohmann::json::array({17, 16}));
  CHECK(contains(rep::estimate_text(in, c.e), "pipeline: 2 stages, 2 micro-batches: 1 of 17"));
  CHECK(contains(c.html(), "2 stages, 2 micro-batches: 1 of 17 sequences, 1 of 16; prefill"));
}

TEST_CASE("collectives table: MoE expert parallelism lists its all-to-alls with their groups") {
  // DeepSeek-V3 on 8 H200 with attention DP (TP=1, DP=8) and EP=8: dispatch and combine are
  // all-to-alls over the EP group.
  const Case c("h200-sxm", "deepseek-v3", 1, 1, 8, 1, 8);
  const auto figs = rep::figure_entries(c.data(), {});
  const nlohmann::json *table = nullptr;
  for (const auto &fig : figs)
    for (const auto &t : fig["tables"])
      if (t["id"] == "collectives") table = &t;
  REQUIRE(table != nullptr);
  const auto &h = (*table)["header"];
  CHECK(h[2] == "name");
  CHECK(h[4] == "group");
  CHECK(h[5] == "ranks");
  CHECK(h[6] == "ranks per domain");
  CHECK(h[7] == "algorithm");
  CHECK(h[8] == "protocol");
  CHECK(h[10] == "bytes per call");
  int all_to_all = 0;
  for (const auto &row : (*table)["rows"]) {
    const auto &cells = row["cells"];
    if (cells[3]["text"] != "all-to-all") continue;
    ++all_to_all;
    CHECK(cells[4]["text"] == "ep");
    CHECK(cells[5]["text"] == "8");
  }
  CHECK(all_to_all >= 4); // dispatch and combine, in prefill and decode
  CHECK(contains(c.html(), "id=\"table-collectives\""));
}

TEST_CASE("batch sweep plot: a deployment that fits nowhere is out of memory all over") {
  const Case c("h100-sxm", "llama-3.1-405b", 1, 1, 1, 1);
  REQUIRE(c.e.memory.max_batch == 0);
  const auto plots = rep::plot_scripts(c.data(), c.gpu.name);
  const auto &sweep = plots[2].body;
  CHECK(contains(sweep, "rect from graph 0,graph 0 to graph 1,graph 1"));
  CHECK(contains(sweep, "DOES NOT FIT"));
  CHECK(contains(sweep, "out of memory at every batch"));
  // One that fits: shading from max_batch only, and no log-axis offsets in either.
  const Fixture f;
  const auto ok = rep::plot_scripts(rep::plot_data(f.gpu, f.model, f.d, f.eff, f.opts, f.e),
                                    f.gpu.name)[2].body;
  CHECK(!contains(ok, "DOES NOT FIT"));
  CHECK(contains(ok, fmt::format("out of memory beyond batch {}", f.e.memory.max_batch)));
  for (const auto *body : {&sweep, &ok}) {
    CHECK(!contains(*body, "set offsets"));
    CHECK(!contains(*body, "set label")); // notes are in the key, never over the curves
  }
}

TEST_CASE("roofline: memory named by its type (GDDR6 on an L40S, HBM3 on an H100)") {
  const Case l40s("l40s", "llama-3.1-8b", 1, 1, 1, 1);
  REQUIRE(l40s.gpu.memory_type == "GDDR6");
  const auto data = l40s.data();
  CHECK(data.roofline.memory_type == "GDDR6");
  const auto roof = rep::plot_scripts(data, l40s.gpu.name)[0].body;
  CHECK(contains(roof, "GDDR6 864.0 GB/s"));
  CHECK(!contains(roof, "HBM"));
  const auto html = l40s.html();
  CHECK(contains(html, "GDDR6 traffic"));
  CHECK(!contains(html, "HBM"));
  const Fixture f;
  CHECK(contains(rep::plot_scripts(rep::plot_data(f.gpu, f.model, f.d, f.eff, f.opts, f.e),
                                   f.gpu.name)[0]
                     .body,
                 "HBM3 3.35 TB/s"));
}

TEST_CASE("batch sweep on the run's cluster: the run's batch has the run's TPOT") {
  // TP=16 over two HGX H100 8-GPU boards whose spine is oversubscribed 4:1: the TP all-reduce
  // crosses that spine. The GPUs' usual cluster (sim::estimate without one) costs it otherwise.
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  const auto model = wl::resolve_model("llama-3.1-70b");
  const auto eff = hw::builtin_efficiency(gpu);
  wl::Deployment d;
  d.tp = 16;
  d.batch = 8;
  d.input_len = 512;
  d.output_len = 32;
  sim::resolve_dtypes(model, gpu, d, false, false);
  const auto cluster = hw::make_cluster(hw::SystemCatalogue::builtin().get("hgx-h100-8"), 2, 4.0);
  const auto e = sim::estimate(gpu, model, d, eff, {}, &cluster);
  const auto tpot_at_run = [&](const hw::Cluster *c) {
    for (const auto &p : rep::batch_sweep(gpu, model, d, eff, {}, e.memory.max_batch, c).points)
      if (p.batch == d.batch) return p.tpot.value();
    return -1.0;
  };
  CHECK(tpot_at_run(&cluster) == doctest::Approx(e.tpot.value()).epsilon(1e-12));
  // What the sweep showed before it was given the cluster:
  CHECK(tpot_at_run(nullptr) != doctest::Approx(e.tpot.value()).epsilon(1e-6));
}

TEST_CASE("shell_command quotes what needs it and drops empty options") {
  CHECK(rep::shell_quote("--tp") == "--tp");
  CHECK(rep::shell_quote("data/models/x.json") == "data/models/x.json");
  CHECK(rep::shell_quote("my report") == "'my report'");
  CHECK(rep::shell_quote("it's") == "'it'\\''s'");
  CHECK(rep::shell_quote("") == "''");
  CHECK(rep::shell_quote("a;rm") == "'a;rm'");
  CHECK(rep::shell_command({"/opt/x/bin/rooftop", "report", "--model", "m", "--gpu", "",
                            "--system", "hgx-h100-8", "--pp", "2", "--overlap-comm", "--out",
                            "my dir", "--efficiency="}) ==
        "rooftop report --model m --system hgx-h100-8 --pp 2 --overlap-comm --out 'my dir'");
}

TEST_CASE("report: data files shown relative to the data directory, no local paths") {
  const Fixture f;
  const std::string dir = rooftop::data_dir().string();
  REQUIRE(contains(f.model.file, dir)); // the preset's file is inside the data directory
  const auto html = [&] {
    const rep::EstimateInputs in{f.model, f.gpu, f.d, f.eff};
    return rep::report_html(in, f.e, f.opts,
                            rep::plot_data(f.gpu, f.model, f.d, f.eff, f.opts, f.e), {},
                            "rooftop report");
  }();
  CHECK(!contains(html, dir));
  CHECK(contains(html, "data/models/llama-3.1-8b"));
  CHECK(contains(html, "data/calibration/h100-sxm/efficiency.json"));
  CHECK(rep::data_relative(dir + "/models/x.json and " + dir + "/y") ==
        "data/models/x.json and data/y");
  CHECK(rep::data_relative("/elsewhere/x.json") == "/elsewhere/x.json");
}

TEST_CASE("efficiency table: each input type's own small-M curve and tile is shown") {
  // A table with BF16's curve and tile and its own for FP4 (and FP8 without either), as the
  // B200 table: the report must show the curve FP4 GEMMs are costed with, not only BF16's.
  const auto &gpu = hw::GpuCatalogue::builtin().get("b200");
  hw::Efficiency e = hw::Efficiency::ideal();
  e.gemm_m_half = 64;
  e.gemm_tile_m = 64;
  e.gemm_tile_n = 128;
  e.gemm_curve_by_dtype["fp4"] = {111, 128, 64};
  e.gemm_curve_by_dtype["fp8"] = {0, 0, 0};
  const auto rows = rep::efficiency_table(e, gpu);
  std::map<std::string, std::string> by_key;
  for (const auto &r : rows) by_key[r.at("key").get<std::string>()] = r.at("value").get<std::string>();
  CHECK(by_key.at("GEMM small-M curve (types not listed below): half at M =") == "64 rows");
  CHECK(by_key.at("GEMM wave quantization tile (types not listed below)") == "64 x 128");
  CHECK(by_key.at("GEMM small-M curve and wave tile, fp4") == "half at M = 111 rows, 128 x 64 tiles");
  CHECK(by_key.at("GEMM small-M curve and wave tile, fp8") == "no curve, no tile");
  // Without per-type curves the rows read as before.
  e.gemm_curve_by_dtype.clear();
  std::set<std::string> keys;
  for (const auto &r : rep::efficiency_table(e, gpu)) keys.insert(r.at("key").get<std::string>());
  CHECK(keys.count("GEMM small-M curve: half at M ="));
  CHECK(keys.count("GEMM wave quantization tile"));
}

TEST_CASE("efficiency table: a measured all-reduce is listed with what ran, unless turned off") {
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  hw::Efficiency e = hw::Efficiency::ideal();
  e.allreduce.scale_up_link = "nvlink4";
  e.allreduce.implementation = "vLLM test";
  e.allreduce.by_ranks[2] = hw::AllReduceCurve{{1024, 2048}, {4e-6, 5e-6}};
  e.allreduce.by_ranks[8] = hw::AllReduceCurve{{1024, 2048}, {5e-6, 6e-6}};
  const auto find = [&](const hw::Efficiency &x) -> std::string {
    for (const auto &r : rep::efficiency_table(x, gpu))
      if (r.at("key") == "TP all-reduce in one nvlink4 NVSwitch domain (2, 8 GPUs)")
        return r.at("source").get<std::string>();
    return "";
  };
  CHECK(find(e) == "vLLM test");
  e.allreduce.off = true;
  CHECK(find(e).empty());
}

TEST_CASE("efficiency table: a KV-cache type's own decode attention terms are listed") {
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  hw::Efficiency e = hw::Efficiency::ideal();
  e.attention_fixed = Seconds(11.6e-6);
  e.attention_item = Seconds(21.6e-9);
  e.attention_decode_by_kv_dtype["fp8"] = {Seconds(13.4e-6), Seconds(25e-9), 0.84};
  std::map<std::string, std::string> by_key;
  for (const auto &r : rep::efficiency_table(e, gpu))
    by_key[r.at("key").get<std::string>()] = r.at("value").get<std::string>();
  CHECK(by_key.at("attention fixed cost + per (sequence, KV head)") == "11.60 us + 21.6 ns");
  CHECK(by_key.at("attention, decode with a KV cache of fp8") ==
        "13.40 us + 25.0 ns per (sequence, KV head), 84.0% of HBM3");
  // Not additive (no fixed or item cost, no prefill bandwidth): the terms are never used, and
  // the row is not shown.
  hw::Efficiency plain = hw::Efficiency::ideal();
  plain.attention_decode_by_kv_dtype["fp8"] = {Seconds(13.4e-6), Seconds(25e-9), 0.84};
  for (const auto &r : rep::efficiency_table(plain, gpu))
    CHECK(r.at("key").get<std::string>() != "attention, decode with a KV cache of fp8");
  e.attention_decode_by_kv_dtype.clear();
  std::set<std::string> keys;
  for (const auto &r : rep::efficiency_table(e, gpu)) keys.insert(r.at("key").get<std::string>());
  CHECK(keys.count("attention, decode with a KV cache of fp8") == 0);
}

TEST_CASE("efficiency table: a GEMM type's activation-conversion pass is listed") {
  const auto &gpu = hw::GpuCatalogue::builtin().get("h100-sxm");
  hw::Efficiency e = hw::Efficiency::ideal();
  const auto keys = [&] {
    std::map<std::string, std::string> by_key;
    for (const auto &r : rep::efficiency_table(e, gpu))
      by_key[r.at("key").get<std::string>()] = r.at("value").get<std::string>();
    return by_key;
  };
  const std::string key = "GEMM fp8: activations converted from BF16 first, at";
  CHECK(keys().count(key) == 0);
  e.gemm_quantize_by_dtype["fp8"] = 0.275;
  CHECK(keys().at(key) == "27.5% of HBM3");
  // Named by the GPU's memory: GDDR6 on an L40S.
  std::map<std::string, std::string> l40s;
  for (const auto &r : rep::efficiency_table(e, hw::GpuCatalogue::builtin().get("l40s")))
    l40s[r.at("key").get<std::string>()] = r.at("value").get<std::string>();
  CHECK(l40s.at(key) == "27.5% of GDDR6");
}
