// Loading the derated default efficiencies (rooftop.efficiency/1).
#include "hwmodels/efficiency.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"
#include "hwmodels/links.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace rooftop::hw {
namespace {

// Bounds beyond which a table is a mistake, not a measurement, and which keep every estimate
// finite (a tile of 1e-320 rows printed -nan, a kernel overhead of 1e308 s an infinite TTFT).
constexpr double k_min_fraction = 1e-4; ///< of a peak: below 0.01% a kernel was not measured
constexpr double k_max_tile = 4096;     ///< rows or columns of a GEMM output tile
constexpr double k_max_half = 1e9;      ///< rows or tokens at which a curve is half its maximum
constexpr double k_max_fixed_s = 1.0;   ///< fixed cost of one kernel or one collective call, s

/// An efficiency in [1e-4, 1] (a fraction of a peak), `fallback` when absent; with `off`, 0 is
/// also accepted and means "not calibrated".
double efficiency(JsonReader &r, const std::string &key, double fallback, bool off = false) {
  const double v = r.number_or(key, fallback, Check::fraction, "fraction of peak");
  if (v < k_min_fraction && !(off && v == 0))
    r.fail(key, std::string("must be ") + (off ? "0 (off) or " : "") +
                    "in [1e-4, 1] (fraction of peak)");
  return v;
}

/// A non-negative number of at most `max`.
double at_most(JsonReader &r, const std::string &key, double fallback, double max,
               const std::string &unit) {
  return r.within(key, r.number_or(key, fallback, Check::non_negative, unit), 0, max, unit);
}

/// A GEMM tile side: 0 (off) or a whole number in [1, 4096].
double tile(JsonReader &r, const std::string &key, double fallback, const std::string &unit) {
  const double v = r.number_or(key, fallback, Check::non_negative, unit);
  if (v != 0 && (v < 1 || v > k_max_tile || std::floor(v) != v))
    r.fail(key, "must be 0 (off) or a whole number in [1, 4096] (" + unit + ")");
  return v;
}

/// The keys gemm_flops_efficiency_by_dtype takes: the canonical names of the data types a GEMM's
/// inputs can have, which Efficiency::gemm_efficiency looks up (the operator's compute dtype, the
/// activation type). int4 is weight-only: no GPU has an int4 tensor-core rate
/// (DenseFlops::matmul_rate), so a GEMM on int4 weights runs at its activation type's rate with
/// that type's entry, and an int4 entry could never apply.
std::string gemm_input_dtypes() {
  std::string out;
  for (const auto &n : dtype_names())
    if (n != to_string(DType::int4)) out += (out.empty() ? "" : ", ") + n;
  return out;
}

/// Why `key` is not a key of gemm_flops_efficiency_by_dtype, or "" when it is one.
std::string by_dtype_key_error(const std::string &key) {
  DType t{};
  try {
    t = dtype_from_string(key);
  } catch (const InputError &) {
    return "unknown data type";
  }
  if (t == DType::int4)
    return "int4 is weight-only, never a GEMM input: GEMMs on int4 weights run at their "
           "activation type's rate and use its entry, so this one would have no effect";
  if (key != to_string(t)) return "an alias: write \"" + to_string(t) + "\"";
  return "";
}

/// An object of GEMM input type -> value at `key`, into `out`: fractions in [1e-4, 1], or with
/// `seconds` fixed costs in [0, 1] s; with `narrow` only types narrower than BF16 (the ones BF16
/// activations are converted to).
void apply_by_dtype(JsonReader &r, const std::string &key, std::map<std::string, double> &out,
                    bool seconds = false, bool narrow = false) {
  if (!r.has(key)) {
    r.ignore({key});
    return;
  }
  JsonReader by = r.object(key);
  for (auto it = by.json().begin(); it != by.json().end(); ++it) {
    if (const std::string why = by_dtype_key_error(it.key()); !why.empty())
      by.fail(it.key(), why + " (keys are GEMM input types: " + gemm_input_dtypes() + ")");
    if (narrow && dtype_storage_bits(dtype_from_string(it.key())) >= 16)
      by.fail(it.key(), "a conversion of BF16 activations applies only to a narrower GEMM input "
                        "type (fp8, int8, fp4, mxfp4), not to a " +
                            std::to_string(static_cast<int>(dtype_storage_bits(dtype_from_string(it.key())))) +
                            "-bit one");
    out[it.key()] = seconds ? at_most(by, it.key(), 0, k_max_fixed_s, "s") : efficiency(by, it.key(), 0);
  }
  by.finish();
}

/// Per-KV-type decode terms replace the additive attention cost's own: a merged table with them
/// but without that cost would never use them. `where` names the layers merged.
void check_decode_terms(const Efficiency &e, const std::string &where) {
  if (!e.attention_decode_by_kv_dtype.empty() && !e.additive_attention())
    throw InputError(where + ": attention_decode_by_kv_dtype applies only with the additive "
                     "attention cost (attention_fixed_s, attention_item_s or "
                     "attention_prefill_bandwidth_efficiency > 0), which these do not give: "
                     "its terms would never apply");
}

/// Applies the fields present in `r` over `e`.
void apply(JsonReader r, Efficiency &e) {
  e.gemm_flops = efficiency(r, "gemm_flops_efficiency", e.gemm_flops);
  e.attention_flops = efficiency(r, "attention_flops_efficiency", e.attention_flops);
  e.hbm_bandwidth = efficiency(r, "hbm_bandwidth_efficiency", e.hbm_bandwidth);
  e.link_bandwidth = efficiency(r, "nvlink_bandwidth_efficiency", e.link_bandwidth);
  e.network_bandwidth = efficiency(r, "network_bandwidth_efficiency", e.network_bandwidth);
  e.nvls_bandwidth = efficiency(r, "nvls_bandwidth_efficiency", e.nvls_bandwidth);
  e.gemm_m_half = at_most(r, "gemm_m_half", e.gemm_m_half, k_max_half, "rows");
  e.gemm_tile_m = tile(r, "gemm_tile_m", e.gemm_tile_m, "rows");
  e.gemm_tile_n = tile(r, "gemm_tile_n", e.gemm_tile_n, "columns");
  if ((e.gemm_tile_m > 0) != (e.gemm_tile_n > 0))
    r.fail(e.gemm_tile_m > 0 ? "gemm_tile_n" : "gemm_tile_m",
           "gemm_tile_m and gemm_tile_n are given together (both > 0) or not at all");
  e.attention_bandwidth =
      efficiency(r, "attention_bandwidth_efficiency", e.attention_bandwidth, /*off=*/true);
  e.attention_context_half =
      at_most(r, "attention_context_half", e.attention_context_half, k_max_half, "tokens");
  e.attention_prefill_bandwidth = efficiency(r, "attention_prefill_bandwidth_efficiency",
                                             e.attention_prefill_bandwidth, /*off=*/true);
  e.attention_fixed =
      Seconds(at_most(r, "attention_fixed_s", e.attention_fixed.value(), k_max_fixed_s, "s"));
  e.attention_item =
      Seconds(at_most(r, "attention_item_s", e.attention_item.value(), k_max_fixed_s, "s"));
  if (r.has("attention_decode_by_kv_dtype")) {
    JsonReader by = r.object("attention_decode_by_kv_dtype");
    for (auto it = by.json().begin(); it != by.json().end(); ++it) {
      DType t{};
      try {
        t = dtype_from_string(it.key());
      } catch (const InputError &) {
        by.fail(it.key(), "unknown data type (keys are KV-cache types other than bf16, e.g. fp8)");
      }
      if (it.key() != to_string(t)) by.fail(it.key(), "an alias: write \"" + to_string(t) + "\"");
      if (t == DType::bf16)
        by.fail(it.key(), "bf16's decode terms are the table's own attention_fixed_s, "
                          "attention_item_s and attention_bandwidth_efficiency");
      JsonReader c = by.object(it.key());
      Efficiency::AttentionDecodeTerms a;
      // All three are given: a partial entry would mix two kernels' terms.
      for (const char *k : {"attention_fixed_s", "attention_item_s", "attention_bandwidth_efficiency"})
        if (!c.has(k)) c.fail(k, "missing: an entry gives all three decode terms");
      a.fixed = Seconds(at_most(c, "attention_fixed_s", 0, k_max_fixed_s, "s"));
      a.item = Seconds(at_most(c, "attention_item_s", 0, k_max_fixed_s, "s"));
      a.bandwidth = efficiency(c, "attention_bandwidth_efficiency", 0);
      c.finish();
      e.attention_decode_by_kv_dtype[it.key()] = a;
    }
    by.finish();
  } else {
    r.ignore({"attention_decode_by_kv_dtype"});
  }
  apply_by_dtype(r, "gemm_flops_efficiency_by_dtype", e.gemm_flops_by_dtype);
  if (r.has("gemm_curve_by_dtype")) {
    JsonReader by = r.object("gemm_curve_by_dtype");
    for (auto it = by.json().begin(); it != by.json().end(); ++it) {
      if (const std::string why = by_dtype_key_error(it.key()); !why.empty())
        by.fail(it.key(), why + " (keys are GEMM input types: " + gemm_input_dtypes() + ")");
      JsonReader c = by.object(it.key());
      Efficiency::GemmCurve g;
      g.m_half = at_most(c, "m_half", 0, k_max_half, "rows");
      g.tile_m = tile(c, "tile_m", 0, "rows");
      g.tile_n = tile(c, "tile_n", 0, "columns");
      if ((g.tile_m > 0) != (g.tile_n > 0))
        c.fail(g.tile_m > 0 ? "tile_n" : "tile_m", "tile_m and tile_n are given together (both > 0) or not at all");
      c.finish();
      e.gemm_curve_by_dtype[it.key()] = g;
    }
    by.finish();
  } else {
    r.ignore({"gemm_curve_by_dtype"});
  }
  apply_by_dtype(r, "gemm_bandwidth_efficiency_by_dtype", e.gemm_bandwidth_by_dtype);
  apply_by_dtype(r, "gemm_overhead_s_by_dtype", e.gemm_overhead_by_dtype, /*seconds=*/true);
  apply_by_dtype(r, "gemm_quantize_bandwidth_efficiency_by_dtype", e.gemm_quantize_by_dtype,
                 /*seconds=*/false, /*narrow=*/true);
  e.kernel_overhead = Seconds(
      at_most(r, "kernel_overhead_s", e.kernel_overhead.value(), k_max_fixed_s, "s"));
  e.collective_latency = Seconds(
      at_most(r, "collective_latency_s", e.collective_latency.value(), k_max_fixed_s, "s"));
  if (r.has("allreduce")) {
    JsonReader a = r.object("allreduce");
    e.allreduce = read_allreduce_curves(a);
    // An unknown link, or one that is not NVLink, would never match an NVSwitch domain: refuse
    // it (the unknown one listing the known ids).
    const LinkSpec &l = find_link(builtin_links(), e.allreduce.scale_up_link,
                                  r.where("allreduce") + "/scale_up_link");
    if (l.kind != "nvlink")
      throw InputError(r.where("allreduce") + "/scale_up_link = \"" + l.id + "\": a " + l.kind +
                       " link; a measured all-reduce applies only in NVSwitch domains of an "
                       "NVLink link");
    // Each GPU sends and receives the whole buffer at least once (NVLS included): no time
    // below message_bytes / the link's one-way bandwidth.
    for (const auto &[ranks, curve] : e.allreduce.by_ranks)
      for (std::size_t i = 0; i < curve.bytes.size(); ++i)
        if (curve.time_s[i] < curve.bytes[i] / l.bandwidth_one_way.value())
          throw InputError(fmt::format(
              "{}/by_ranks/{}/time_s/{} = {:g} s: {:.0f} bytes at {:.4g} GB/s, above the {:.4g} "
              "GB/s one-way bandwidth of {}: no all-reduce is that fast",
              r.where("allreduce"), ranks, i, curve.time_s[i], curve.bytes[i],
              curve.bytes[i] / curve.time_s[i] / 1e9, l.bandwidth_one_way.value() / 1e9, l.id));
  } else {
    r.ignore({"allreduce"});
  }
  r.finish();
}

} // namespace

std::string to_string(EfficiencyOrigin o) {
  switch (o) {
  case EfficiencyOrigin::ideal: return "ideal";
  case EfficiencyOrigin::spec: return "spec";
  case EfficiencyOrigin::measured: return "measured";
  case EfficiencyOrigin::transferred: return "transferred";
  }
  throw InternalError("to_string: unknown EfficiencyOrigin");
}

GemmTerms Efficiency::gemm_terms(DType dtype) const {
  GemmTerms t{gemm_flops, gemm_m_half, gemm_tile_m, gemm_tile_n, hbm_bandwidth, kernel_overhead};
  const bool calibrated = !gemm_flops_by_dtype.empty() || !gemm_curve_by_dtype.empty() ||
                          !gemm_bandwidth_by_dtype.empty() || !gemm_overhead_by_dtype.empty() ||
                          !gemm_quantize_by_dtype.empty();
  if (!calibrated) return t; // skip the string look-ups
  const std::string name = to_string(dtype);
  if (auto it = gemm_flops_by_dtype.find(name); it != gemm_flops_by_dtype.end()) t.e_max = it->second;
  if (auto it = gemm_curve_by_dtype.find(name); it != gemm_curve_by_dtype.end()) {
    t.m_half = it->second.m_half;
    t.tile_m = it->second.tile_m;
    t.tile_n = it->second.tile_n;
  }
  if (auto it = gemm_bandwidth_by_dtype.find(name); it != gemm_bandwidth_by_dtype.end())
    t.bandwidth = it->second;
  if (auto it = gemm_overhead_by_dtype.find(name); it != gemm_overhead_by_dtype.end())
    t.overhead = Seconds(it->second);
  if (auto it = gemm_quantize_by_dtype.find(name); it != gemm_quantize_by_dtype.end())
    t.quantize = it->second;
  return t;
}

GemmTerms::Times GemmTerms::times(Flops flops, Bytes bytes, double rows, double wave,
                                  double elements, DType dtype, FlopsPerSecond peak,
                                  BytesPerSecond hbm, int kernels) const {
  Times t;
  t.compute = flops / (peak * efficiency(rows) * wave);
  t.memory = bytes / (hbm * bandwidth);
  if (quantize > 0 && elements > 0)
    t.quantize = Seconds(elements * (2.0 + dtype_storage_bytes(dtype)) / (hbm.value() * quantize));
  t.overhead = overhead * static_cast<double>(kernels);
  return t;
}

double Efficiency::gemm_efficiency(DType dtype, double rows) const {
  return gemm_terms(dtype).efficiency(rows);
}

double Efficiency::gemm_bandwidth(DType dtype) const { return gemm_terms(dtype).bandwidth; }

Seconds Efficiency::gemm_overhead(DType dtype, int kernels) const {
  return gemm_terms(dtype).overhead * static_cast<double>(kernels);
}

double gemm_wave_fraction(double rows, double cols, double tile_m, double tile_n, int sms,
                          double groups) {
  if (!(tile_m > 0) || !(tile_n > 0) || sms <= 0 || !(rows > 0) || !(cols > 0) || !(groups > 0))
    return 1.0;
  const double tiles = groups * std::ceil(rows / tile_m) * std::ceil(cols / tile_n);
  return tiles / (std::ceil(tiles / sms) * sms);
}

double Efficiency::gemm_wave_efficiency(double rows, double cols, int sms, double groups) const {
  return gemm_wave_fraction(rows, cols, gemm_tile_m, gemm_tile_n, sms, groups);
}

double Efficiency::gemm_wave_efficiency(DType dtype, double rows, double cols, int sms,
                                        double groups) const {
  const GemmTerms t = gemm_terms(dtype);
  return gemm_wave_fraction(rows, cols, t.tile_m, t.tile_n, sms, groups);
}

double Efficiency::attention_bandwidth_efficiency(double context) const {
  const double e_max = attention_bandwidth > 0 ? attention_bandwidth : hbm_bandwidth;
  return attention_context_half > 0 && context > 0 ? e_max * context / (context + attention_context_half)
                                                   : e_max;
}

Efficiency::AttentionDecodeTerms Efficiency::attention_terms(DType kv_dtype, bool decode,
                                                             double context) const {
  if (decode && !attention_decode_by_kv_dtype.empty())
    if (auto it = attention_decode_by_kv_dtype.find(to_string(kv_dtype));
        it != attention_decode_by_kv_dtype.end())
      return it->second;
  return {attention_fixed, attention_item,
          !decode && attention_prefill_bandwidth > 0 ? attention_prefill_bandwidth
                                                     : attention_bandwidth_efficiency(context)};
}

nlohmann::ordered_json attention_decode_by_kv_dtype_json(const Efficiency &e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto &[k, a] : e.attention_decode_by_kv_dtype)
    j[k] = {{"attention_fixed_s", a.fixed.value()}, {"attention_item_s", a.item.value()},
            {"attention_bandwidth_efficiency", a.bandwidth}};
  return j;
}

Efficiency Efficiency::ideal() {
  Efficiency e;
  e.origin = EfficiencyOrigin::ideal;
  e.provenance = "ideal: spec-sheet peaks, efficiency 1, no fixed costs";
  return e;
}

Efficiency load_default_efficiency(const std::filesystem::path &file, const GpuSpec &gpu) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.efficiency/1")
    r.fail("schema", "expected \"rooftop.efficiency/1\"");
  Efficiency e;
  const std::string origin = r.optional_string("origin").value_or("spec");
  if (origin != "spec" && origin != "measured")
    r.fail("origin", "expected \"spec\" or \"measured\"");
  const auto measured_on = r.optional_string("gpu");
  const auto measured_arch = r.optional_string("architecture");
  r.ignore({"calibration", "fit", "meta", "published"});
  const auto required = {"gemm_flops_efficiency", "attention_flops_efficiency",
                         "hbm_bandwidth_efficiency", "nvlink_bandwidth_efficiency",
                         "network_bandwidth_efficiency", "nvls_bandwidth_efficiency",
                         "kernel_overhead_s", "collective_latency_s"};
  JsonReader d = r.object("defaults");
  for (const char *k : required)
    if (!d.has(k)) throw InputError(d.where(k) + ": missing required field");
  apply(d, e);
  // Checked on the merged layers, the same for every GPU: /defaults alone (a GPU whose
  // architecture has no entry) and /defaults with each per_architecture entry.
  check_decode_terms(e, file.string() + ": /defaults");
  const Efficiency base = e;
  std::string provenance = file.string() + "#/defaults";
  const std::string arch = to_string(gpu.architecture);
  if (r.has("per_architecture")) {
    JsonReader pa = r.object("per_architecture");
    for (auto it = pa.json().begin(); it != pa.json().end(); ++it) {
      try {
        architecture_from_string(it.key());
      } catch (const InputError &err) {
        throw InputError(pa.where(it.key()) + ": " + err.what());
      }
      JsonReader o = pa.object(it.key());
      Efficiency merged = base;
      apply(o, merged); // validates the other architectures' entries too
      check_decode_terms(merged, file.string() + ": /defaults with /per_architecture/" + it.key());
      if (it.key() == arch) {
        e = merged;
        provenance += " + #/per_architecture/" + arch;
      }
    }
    pa.finish();
  } else {
    r.ignore({"per_architecture"});
  }
  e.sources = r.string_map("sources");
  (void)r.optional_string("description");
  (void)r.string_list("notes");
  r.finish();
  e.origin = EfficiencyOrigin::spec;
  e.provenance = provenance;
  if (origin == "measured") {
    const bool known = measured_on && (*measured_on == "host-cpu" ||
                                       GpuCatalogue::builtin().all().count(*measured_on) ||
                                       std::filesystem::is_regular_file(*measured_on));
    if (measured_on && !known)
      r.fail("gpu", "not a catalogue GPU id, a GPU file or host-cpu");
    if (!measured_on || !measured_arch)
      throw InputError(r.where(measured_on ? "architecture" : "gpu") +
                       ": missing, and required in a measured table (\"origin\": \"measured\")");
    if (const auto why = measured_on_mismatch(*measured_on, *measured_arch); !why.empty())
      r.fail("architecture", why);
    if (*measured_arch != arch)
      throw InputError(file.string() + ": /architecture = \"" + *measured_arch +
                       "\": measured on another architecture than " + gpu.id + " (" + arch +
                       "); it cannot be transferred");
    e.origin = *measured_on == gpu.id ? EfficiencyOrigin::measured : EfficiencyOrigin::transferred;
    // Fitted to someone else's published kernel timings (docs/calibration.md, "Published
    // measurements"), not to a run of rooftop's own: say so wherever the origin is shown.
    std::string by;
    if (const auto *pub = r.raw("published"); pub && pub->is_object()) {
      const auto text = [&](const char *k) {
        const auto it = pub->find(k);
        return it != pub->end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      const std::string commit = text("commit");
      by = ": fitted to published measurements (" +
           (text("source").empty() ? std::string("source not named") : text("source")) +
           (commit.empty() ? "" : " @ " + commit.substr(0, 12)) + "), not a run of rooftop's own";
    }
    e.provenance = file.string() +
                   (e.origin == EfficiencyOrigin::transferred
                        ? " (measured on " + *measured_on + ", transferred)"
                        : "") +
                   by;
  }
  return e;
}

const std::vector<std::string> &known_engines() {
  static const std::vector<std::string> engines{"vllm", "trtllm"};
  return engines;
}

std::string engine_table_name(const std::string &engine) {
  const auto &known = known_engines();
  if (std::find(known.begin(), known.end(), engine) == known.end())
    throw InputError("engine \"" + engine + "\": expected " + known[0] + " or " + known[1]);
  return engine == "vllm" ? "efficiency.json" : "efficiency-" + engine + ".json";
}

Efficiency builtin_efficiency(const GpuSpec &gpu, const std::string &engine) {
  namespace fs = std::filesystem;
  const std::string name = engine_table_name(engine);
  const fs::path cal = data_dir() / "calibration";
  const fs::path own = cal / gpu.id / name;
  const auto with_engine = [&](Efficiency e) {
    e.engine = engine;
    return e;
  };
  if (fs::is_regular_file(own)) return with_engine(load_default_efficiency(own, gpu));
  if (fs::is_directory(cal)) {
    std::vector<fs::path> dirs;
    for (const auto &d : fs::directory_iterator(cal)) dirs.push_back(d.path());
    std::sort(dirs.begin(), dirs.end());
    for (const auto &d : dirs) {
      const fs::path f = d / name;
      if (!fs::is_regular_file(f)) continue;
      const auto j = read_json_file(f);
      JsonReader r(j, f.string());
      if (r.optional_string("architecture") == to_string(gpu.architecture))
        return with_engine(load_default_efficiency(f, gpu));
    }
  }
  return load_default_efficiency(data_dir() / "hardware" / "efficiency.json", gpu);
}

Efficiency engine_efficiency(const GpuSpec &gpu, const std::string &engine) {
  Efficiency e = builtin_efficiency(gpu, engine);
  if (engine != "vllm" && e.engine != engine)
    throw InputError("--engine " + engine + ": no table of that engine's kernels for " + gpu.id +
                     " or another " + to_string(gpu.architecture) + " GPU (data/calibration/*/" +
                     engine_table_name(engine) + "); use --engine vllm");
  return e;
}

} // namespace rooftop::hw
