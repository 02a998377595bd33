// reports/: the tables behind the report's plots, SVG inlining and the HTML template (no gnuplot).
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "reports/gnuplot.hpp"
#include "reports/format.hpp"
#include "reports/html_report.hpp"
#include "reports/plot_data.hpp"
#include "reports/plots.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"

#include <doctest/doctest.h>

#include <set>

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

} // namespace

TEST_CASE("roofline data: every operator with FLOPs at F/B and F/t; equal peaks share a roof") {
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
  }
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
  if (s.first_compute_bound > 0) {
    CHECK(at(s.first_compute_bound).decode.bound == sim::Bound::compute);
    if (s.first_compute_bound > 1)
      CHECK(at(s.first_compute_bound - 1).decode.bound != sim::Bound::compute);
  }
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
                             "decode bound", "HBM bandwidth", "Content-Security-Policy"})
    CHECK_MESSAGE(contains(html, needle), needle);
  CHECK(contains(html, rep::version()));
  CHECK(contains(html, rep::git_sha()));
  // A source of an efficiency (Hopper's GEMM efficiency) and of a GPU figure are shown.
  CHECK(contains(html, f.eff.sources.at("/per_architecture/hopper/gemm_flops_efficiency")
                           .substr(0, 11))); // "Stas Bekman"
  CHECK(!contains(html, "http://")); // nothing to fetch (real SVGs add only xmlns)
  CHECK(!contains(html, "https://cdn"));
}

TEST_CASE("render_template refuses an unknown template") {
  CHECK_THROWS(rep::render_template("nope.html", nlohmann::json::object()));
}
