// Reading and writing calibration files.
#include "calibration/calibration_file.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace rooftop::cal {
namespace {

nlohmann::ordered_json case_json(const Case &c) {
  nlohmann::ordered_json j = {{"id", c.id}, {"kind", to_string(c.kind)}, {"dtype", to_string(c.dtype)}};
  if (c.kind == CaseKind::gemm) j.update({{"m", c.m}, {"n", c.n}, {"k", c.k}});
  if (c.kind == CaseKind::stream) j.update({{"stream", to_string(c.stream)}, {"array_bytes", c.bytes}});
  if (c.kind == CaseKind::attention_decode || c.kind == CaseKind::attention_prefill ||
      c.kind == CaseKind::layer)
    j.update({{"batch", c.batch}, {"q_heads", c.q_heads}, {"kv_heads", c.kv_heads},
              {"head_dim", c.head_dim}, {"latent_dim", c.latent_dim}, {"context", c.context}});
  if (c.kind == CaseKind::layer)
    j.update({{"model", c.model}, {"hidden", c.hidden}, {"intermediate", c.intermediate}});
  if (c.kind == CaseKind::launch && c.hidden > 0) j["hidden"] = c.hidden;
  if (c.kind == CaseKind::all_reduce)
    j.update({{"system", c.system}, {"ranks", c.ranks}, {"message_bytes", c.bytes}});
  j.update({{"cold", c.cold}, {"flops", c.flops}, {"bytes", c.bytes_moved}});
  return j;
}

/// The valid names of an enum with a to_string, for messages: "a, b, c".
template <class E, std::size_t N> std::string names(const E (&values)[N]) {
  std::string out;
  for (const E v : values) out += (out.empty() ? "" : ", ") + to_string(v);
  return out;
}

/// An all_reduce case's group: a catalogue system, ranks in [2, its scale-up domain], a buffer
/// of at least one byte.
void read_all_reduce(JsonReader &r, Case &c) {
  // Another kind's shape fields mean nothing here: refuse them rather than ignore them.
  for (const char *k : {"m", "n", "k", "stream", "array_bytes", "batch", "q_heads", "kv_heads",
                        "head_dim", "latent_dim", "context", "model", "hidden", "intermediate"})
    if (r.has(k)) r.fail(k, "does not apply to an all_reduce case");
  if (c.cold) r.fail("cold", "must be false for an all_reduce case (no L2 flush between calls)");
  // The curves cost BF16 tensor-parallel all-reduces (what serving engines run).
  if (c.dtype != DType::bf16) r.fail("dtype", "must be bf16 for an all_reduce case");
  c.system = r.string("system");
  const hw::SystemSpec *s = nullptr;
  try {
    s = &hw::SystemCatalogue::builtin().get(c.system);
  } catch (const InputError &e) {
    r.fail("system", e.what());
  }
  c.ranks = r.integer("ranks");
  if (c.ranks < 2 || c.ranks > s->domain_gpus)
    r.fail("ranks", "must be in [2, " + std::to_string(s->domain_gpus) + "] (GPUs of one " +
                        c.system + " scale-up domain)");
  c.bytes = r.number("message_bytes", Check::positive, "bytes");
  if (c.bytes < 1 || c.bytes > 1e15 || std::floor(c.bytes) != c.bytes)
    r.fail("message_bytes", "must be a whole number of bytes in [1, 1e15]");
}

Case read_case(JsonReader &r) {
  Case c;
  c.id = r.string("id");
  const std::string kind = r.string("kind"), dtype = r.string("dtype");
  try {
    c.kind = case_kind_from_string(kind);
  } catch (const InputError &e) {
    const CaseKind all[] = {CaseKind::gemm,   CaseKind::stream, CaseKind::attention_decode,
                            CaseKind::attention_prefill, CaseKind::launch, CaseKind::layer,
                            CaseKind::all_reduce};
    r.fail("kind", std::string(e.what()) + ": expected one of " + names(all));
  }
  try {
    c.dtype = dtype_from_string(dtype);
  } catch (const InputError &e) {
    r.fail("dtype", e.what());
  }
  c.m = r.integer_or("m", 0);
  c.n = r.integer_or("n", 0);
  c.k = r.integer_or("k", 0);
  if (auto s = r.optional_string("stream")) {
    try {
      c.stream = stream_kind_from_string(*s);
    } catch (const InputError &e) {
      const StreamKind all[] = {StreamKind::read, StreamKind::write, StreamKind::copy,
                                StreamKind::triad};
      r.fail("stream", std::string(e.what()) + ": expected one of " + names(all));
    }
  }
  c.bytes = r.number_or("array_bytes", 0, Check::non_negative, "bytes");
  c.batch = r.integer_or("batch", 0);
  c.q_heads = r.integer_or("q_heads", 0);
  c.kv_heads = r.integer_or("kv_heads", 0);
  c.head_dim = r.integer_or("head_dim", 0);
  c.latent_dim = r.integer_or("latent_dim", 0);
  c.context = r.integer_or("context", 0);
  c.model = r.optional_string("model").value_or("");
  c.hidden = r.integer_or("hidden", 0);
  c.intermediate = r.integer_or("intermediate", 0);
  c.cold = r.boolean_or("cold", false);
  if (c.kind == CaseKind::all_reduce) read_all_reduce(r, c);
  if (c.kind == CaseKind::attention_decode || c.kind == CaseKind::attention_prefill ||
      c.kind == CaseKind::layer) {
    for (const auto &[k, v] :
         {std::pair{"batch", c.batch}, {"q_heads", c.q_heads}, {"context", c.context}})
      if (v < 1)
        r.fail(k, "must be >= 1 for this kind");
  }
  if (c.kind == CaseKind::gemm)
    for (const auto &[k, v] : {std::pair{"m", c.m}, {"n", c.n}, {"k", c.k}})
      if (v < 1) r.fail(k, "must be >= 1 for a GEMM");
  c.flops = r.number("flops", Check::non_negative, "FLOP");
  c.bytes_moved = r.number("bytes", Check::non_negative, "bytes");
  // The declared work must be what the shape gives (plan.cpp declare_work: 2mnk for a GEMM,
  // the arrays a stream moves, ...): the fit divides by it. A layer case's declared work is
  // not used (its prediction lowers the model's layer) and is not checked.
  if (c.kind != CaseKind::layer) {
    Case ref = c;
    declare_work(ref);
    const auto agrees = [](double a, double b) {
      return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
    };
    const auto num = [](double v) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      return std::string(buf);
    };
    if (!agrees(c.flops, ref.flops))
      r.fail("flops", "contradicts the case's shape, which gives " + num(ref.flops) + " FLOP" +
                          (c.kind == CaseKind::gemm ? " (2 m n k)" : ""));
    if (!agrees(c.bytes_moved, ref.bytes_moved))
      r.fail("bytes", "contradicts the case's shape, which gives " + num(ref.bytes_moved) +
                          " bytes of traffic");
  }
  return c;
}

/// One self-check. A stored "passed" must agree with the one recomputed from the error and the
/// tolerance (a skipped check passes): a file that says otherwise contradicts itself.
SelfCheck read_self_check(JsonReader &e) {
  SelfCheck c;
  c.name = e.string("name");
  c.implementation = e.optional_string("implementation").value_or("");
  c.max_rel_error = e.number("max_rel_error", Check::non_negative, "fraction");
  c.tolerance = e.number("tolerance", Check::non_negative, "fraction");
  c.skip_reason = e.optional_string("skip_reason").value_or("");
  if (e.has("passed") && e.boolean_or("passed", false) != c.passed())
    e.fail("passed", c.passed()
                         ? "contradicts max_rel_error <= tolerance"
                         : "contradicts max_rel_error " + nlohmann::json(c.max_rel_error).dump() +
                               " > tolerance " + nlohmann::json(c.tolerance).dump());
  e.finish();
  return c;
}

/// A measured time: 1 ps to 1 hour. Outside that it is a mistake, and a time of 5e-324 s made
/// validate's relative error infinite.
bool sane_time(double t) { return t >= 1e-12 && t <= 3600; }
const char *const k_time_bounds = "must be a time in [1e-12, 3600] (s)";

double read_time(JsonReader &e, const std::string &key) {
  const double t = e.number(key, Check::positive, "s");
  if (!sane_time(t)) e.fail(key, k_time_bounds);
  return t;
}

/// samples_s: an array of times in [1e-12, 3600] s, as many as sample_count says when it is given.
std::vector<double> read_samples(JsonReader &e) {
  const auto count = e.optional_integer("sample_count", Check::non_negative_integer);
  std::vector<double> out;
  const auto *s = e.raw("samples_s");
  if (!s) return out;
  if (!s->is_array()) e.fail("samples_s", "must be an array of times (s)");
  for (std::size_t k = 0; k < s->size(); ++k) {
    const auto &x = (*s)[k];
    const double v = x.is_number() ? x.get<double>() : 0;
    if (!sane_time(v))
      throw InputError(e.where("samples_s") + "/" + std::to_string(k) + " = " + x.dump() + ": " +
                       k_time_bounds);
    out.push_back(v);
  }
  if (count && *count != static_cast<long long>(out.size()))
    e.fail("sample_count",
           "contradicts the " + std::to_string(out.size()) + " values of samples_s");
  return out;
}

Measurement read_measurement(JsonReader &e) {
  Measurement m;
  m.c = read_case(e);
  m.skipped = e.boolean_or("skipped", false);
  m.implementation = e.optional_string("implementation").value_or("");
  if (m.skipped) {
    m.failed = e.boolean_or("failed", false);
    m.skip_reason = e.string("skip_reason");
  } else {
    m.median_s = read_time(e, "median_s");
    m.mean_s = read_time(e, "mean_s");
    // A published time may come without its spread; rooftop's own runs always write one.
    if (e.has("rel_stdev")) m.rel_stdev = e.number("rel_stdev", Check::non_negative, "fraction");
    m.discarded = e.to_int("discarded_samples", e.integer_or("discarded_samples", 0));
    m.samples_s = read_samples(e);
    if (m.c.kind == CaseKind::all_reduce) {
      // Each GPU sends and receives at least the whole buffer once, even with the switch
      // reducing (NVLS), so no all-reduce beats message_bytes / the one-way link bandwidth.
      const auto &l = hw::SystemCatalogue::builtin().get(m.c.system).scale_up_link;
      const double floor_s = m.c.bytes / l.bandwidth_one_way.value();
      for (const char *k : {"median_s", "mean_s"}) {
        const double t = std::string(k) == "median_s" ? m.median_s : m.mean_s;
        if (t < floor_s)
          e.fail(k, fmt::format("{:.4g} s moves {:.0f} bytes at {:.4g} GB/s, above the {:.4g} GB/s "
                                "one-way {} bandwidth of a {} GPU: no all-reduce is that fast",
                                t, m.c.bytes, m.c.bytes / t / 1e9,
                                l.bandwidth_one_way.value() / 1e9, l.id, m.c.system));
      }
    }
  }
  e.finish();
  return m;
}

} // namespace

nlohmann::ordered_json to_json(const CalibrationRun &run) {
  nlohmann::ordered_json ms = nlohmann::ordered_json::array();
  for (const auto &m : run.measurements) {
    nlohmann::ordered_json j = case_json(m.c);
    j["skipped"] = m.skipped;
    if (!m.implementation.empty()) j["implementation"] = m.implementation;
    if (m.skipped) {
      if (m.failed) j["failed"] = true;
      j["skip_reason"] = m.skip_reason;
    } else {
      j.update({{"median_s", m.median_s},
                {"mean_s", m.mean_s}});
      if (m.rel_stdev) j["rel_stdev"] = *m.rel_stdev;
      if (!m.samples_s.empty() || m.rel_stdev)
        j.update({{"sample_count", m.samples_s.size()},
                  {"discarded_samples", m.discarded},
                  {"samples_s", m.samples_s}});
    }
    ms.push_back(j);
  }
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto &c : run.self_checks) {
    checks.push_back({{"name", c.name},
                      {"implementation", c.implementation},
                      // a kernel that found no algorithm or wrote NaN has an infinite error
                      {"max_rel_error", std::isfinite(c.max_rel_error)
                                            ? c.max_rel_error
                                            : std::numeric_limits<double>::max()},
                      {"tolerance", c.tolerance},
                      {"passed", c.passed()}});
    if (!c.skip_reason.empty()) checks.back()["skip_reason"] = c.skip_reason;
  }
  const auto &d = run.device;
  nlohmann::ordered_json j = {{"schema", "rooftop.calibration/1"},
          {"gpu", run.gpu},
          {"architecture", run.architecture},
          {"meta", run.meta},
          {"device",
           {{"backend", d.backend},
            {"name", d.name},
            {"sm_version", d.sm_version},
            {"sm_count", d.sm_count},
            {"clock_hz", d.clock_hz},
            {"memory_clock_hz", d.memory_clock_hz},
            {"memory_bytes", d.memory_bytes},
            {"l2_bytes", d.l2_bytes},
            {"driver_version", d.driver_version},
            {"power_limit_w", d.power_limit_w},
            {"cuda_version", d.cuda_version}}},
          {"self_checks", checks}};
  if (run.published.is_null()) {
    j["stop_rule"] = {{"warmup", run.rule.warmup},
                      {"min_samples", run.rule.min_samples},
                      {"max_samples", run.rule.max_samples},
                      {"target_rel_stderr", run.rule.target_rel_stderr},
                      {"max_seconds", run.rule.max_seconds}};
  } else {
    j["published"] = run.published;
  }
  j["measurements"] = ms;
  return j;
}

CalibrationRun load_calibration(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.calibration/1")
    r.fail("schema", "expected \"rooftop.calibration/1\"");
  CalibrationRun run;
  run.gpu = r.string("gpu");
  run.architecture = r.string("architecture");
  if (const auto why = hw::measured_on_mismatch(run.gpu, run.architecture); !why.empty())
    r.fail("architecture", why);
  if (const auto *meta = r.raw("meta")) run.meta = *meta;
  JsonReader d = r.object("device");
  run.device.backend = d.string("backend");
  run.device.name = d.string("name");
  run.device.sm_version = d.to_int("sm_version", d.integer_or("sm_version", 0));
  run.device.sm_count = d.to_int("sm_count", d.integer_or("sm_count", 0));
  run.device.clock_hz = d.number_or("clock_hz", 0, Check::non_negative, "Hz");
  run.device.memory_clock_hz = d.number_or("memory_clock_hz", 0, Check::non_negative, "Hz");
  run.device.memory_bytes = d.number_or("memory_bytes", 0, Check::non_negative, "bytes");
  run.device.l2_bytes = d.number_or("l2_bytes", 0, Check::non_negative, "bytes");
  run.device.driver_version = d.optional_string("driver_version").value_or("");
  run.device.cuda_version = d.optional_string("cuda_version").value_or("");
  run.device.power_limit_w = d.number_or("power_limit_w", 0, Check::non_negative, "W");
  d.finish();
  if (r.has("published")) {
    // Someone else's measurements: where they come from and how they were timed, instead of
    // rooftop's stop rule.
    JsonReader p = r.object("published");
    for (const char *k : {"source", "commit", "statistic"}) p.string(k);
    run.published = *r.raw("published");
    if (r.has("stop_rule"))
      r.fail("stop_rule", "a published file has no stop rule (\"published\" says how it was timed)");
  } else {
    JsonReader sr = r.object("stop_rule");
    run.rule.warmup = sr.to_int("warmup", sr.integer_or("warmup", 0));
    run.rule.min_samples = sr.to_int("min_samples", sr.integer("min_samples"));
    run.rule.max_samples = sr.to_int("max_samples", sr.integer("max_samples"));
    run.rule.target_rel_stderr = sr.number("target_rel_stderr", Check::positive, "fraction");
    run.rule.max_seconds = sr.number("max_seconds", Check::positive, "s");
    sr.finish();
  }
  if (const auto *checks = r.raw("self_checks")) {
    if (!checks->is_array()) r.fail("self_checks", "must be an array");
    for (std::size_t i = 0; i < checks->size(); ++i) {
      JsonReader e((*checks)[i], file.string(), "/self_checks/" + std::to_string(i));
      run.self_checks.push_back(read_self_check(e));
    }
  }
  const auto &arr = r.array("measurements");
  r.finish();
  std::map<std::string, std::size_t> first; // id -> index of its first measurement
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader e(arr[i], file.string(), "/measurements/" + std::to_string(i));
    run.measurements.push_back(read_measurement(e));
    const Case &c = run.measurements.back().c;
    if (c.kind == CaseKind::all_reduce) {
      const auto &s = hw::SystemCatalogue::builtin().get(c.system);
      if (s.gpu != run.gpu)
        e.fail("system", c.system + " holds " + s.gpu + " GPUs, but the file's /gpu is " + run.gpu);
    }
    const auto [it, fresh] = first.emplace(run.measurements.back().c.id, i);
    if (!fresh)
      e.fail("id", "duplicate of /measurements/" + std::to_string(it->second) +
                       "/id (ids must be unique)");
  }
  return run;
}

nlohmann::ordered_json efficiency_table_json(const FitResult &fit, const CalibrationRun &run,
                                             const std::string &calibration_file) {
  const auto &e = fit.efficiency;
  nlohmann::ordered_json by = nlohmann::ordered_json::object();
  for (const auto &[k, v] : e.gemm_flops_by_dtype) by[k] = v;
  nlohmann::ordered_json bw_by = nlohmann::ordered_json::object(), over_by = nlohmann::ordered_json::object();
  for (const auto &[k, v] : e.gemm_bandwidth_by_dtype) bw_by[k] = v;
  for (const auto &[k, v] : e.gemm_overhead_by_dtype) over_by[k] = v;
  nlohmann::ordered_json quant_by = nlohmann::ordered_json::object();
  for (const auto &[k, v] : e.gemm_quantize_by_dtype) quant_by[k] = v;
  nlohmann::ordered_json curve_by = nlohmann::ordered_json::object();
  for (const auto &[k, c] : e.gemm_curve_by_dtype)
    curve_by[k] = {{"m_half", c.m_half}, {"tile_m", c.tile_m}, {"tile_n", c.tile_n}};
  const nlohmann::ordered_json attn_by = hw::attention_decode_by_kv_dtype_json(e);
  nlohmann::ordered_json gemm = nlohmann::ordered_json::object();
  for (const auto &[k, g] : fit.gemm)
    gemm[k] = {{"e_max", g.e_max}, {"m_half", g.m_half}, {"tile_m", g.tile_m},
               {"tile_n", g.tile_n}, {"cases", g.cases}, {"bandwidth", g.bandwidth},
               {"overhead_s", g.overhead_s}, {"memory_cases", g.memory_cases},
               {"quantize_bandwidth", g.quantize}, {"joint", g.joint}};
  nlohmann::ordered_json j = {{"schema", "rooftop.efficiency/1"},
          {"origin", "measured"},
          {"gpu", run.gpu},
          {"architecture", run.architecture},
          {"calibration", calibration_file},
          {"meta", run.meta},
          {"defaults",
           {{"gemm_flops_efficiency", e.gemm_flops},
            {"gemm_m_half", e.gemm_m_half},
            {"gemm_tile_m", e.gemm_tile_m},
            {"gemm_tile_n", e.gemm_tile_n},
            {"gemm_flops_efficiency_by_dtype", by},
            {"gemm_bandwidth_efficiency_by_dtype", bw_by},
            {"gemm_overhead_s_by_dtype", over_by},
            {"gemm_quantize_bandwidth_efficiency_by_dtype", quant_by},
            {"gemm_curve_by_dtype", curve_by},
            {"attention_flops_efficiency", e.attention_flops},
            {"attention_bandwidth_efficiency", e.attention_bandwidth},
            {"attention_context_half", e.attention_context_half},
            {"attention_prefill_bandwidth_efficiency", e.attention_prefill_bandwidth},
            {"attention_fixed_s", e.attention_fixed.value()},
            {"attention_item_s", e.attention_item.value()},
            {"attention_decode_by_kv_dtype", attn_by},
            {"hbm_bandwidth_efficiency", e.hbm_bandwidth},
            {"nvlink_bandwidth_efficiency", e.link_bandwidth},
            {"network_bandwidth_efficiency", e.network_bandwidth},
            {"nvls_bandwidth_efficiency", e.nvls_bandwidth},
            {"kernel_overhead_s", e.kernel_overhead.value()},
            {"collective_latency_s", e.collective_latency.value()}}},
          {"fit",
           {{"hbm_bandwidth_Bps", fit.hbm_bandwidth_Bps},
            {"stream_fixed_s", fit.stream_fixed_s},
            {"kernel_overhead_s", fit.kernel_overhead_s},
            {"gemm", gemm},
            {"attention_flops", fit.attention_flops},
            {"attention_bandwidth", fit.attention_bandwidth},
            {"attention_context_half", fit.attention_context_half},
            {"additive_attention", fit.additive_attention},
            {"attention_fixed_s", fit.attention_fixed_s},
            {"attention_item_s", fit.attention_item_s},
            {"attention_prefill_bandwidth", fit.attention_prefill_bandwidth},
            {"attention_decode_by_kv_dtype", attn_by},
            {"allreduce_cases", fit.allreduce_cases},
            {"fitted_measurements", fit.fitted},
            {"held_out_measurements", fit.held}}},
          {"notes", fit.notes}};
  if (!e.allreduce.empty()) j["defaults"]["allreduce"] = hw::allreduce_curves_json(e.allreduce);
  // Published measurements: where they come from travels with the table.
  if (!run.published.is_null()) j["published"] = run.published;
  return j;
}

void write_json_file(const std::filesystem::path &file, const nlohmann::ordered_json &j) {
  if (file.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
  }
  std::ofstream out(file);
  if (!out) throw InputError(file.string() + ": cannot write file");
  out << j.dump(2) << "\n";
  if (!out) throw InputError(file.string() + ": write failed");
}

} // namespace rooftop::cal
