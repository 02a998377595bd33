// Loading the derated default efficiencies (rooftop.efficiency/1).
#include "hwmodels/efficiency.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"

namespace rooftop::hw {
namespace {

/// Applies the fields present in `r` over `e`.
void apply(JsonReader r, Efficiency &e) {
  e.gemm_flops = r.number_or("gemm_flops_efficiency", e.gemm_flops, Check::fraction, "fraction");
  e.attention_flops =
      r.number_or("attention_flops_efficiency", e.attention_flops, Check::fraction, "fraction");
  e.hbm_bandwidth =
      r.number_or("hbm_bandwidth_efficiency", e.hbm_bandwidth, Check::fraction, "fraction");
  e.link_bandwidth =
      r.number_or("nvlink_bandwidth_efficiency", e.link_bandwidth, Check::fraction, "fraction");
  e.network_bandwidth =
      r.number_or("network_bandwidth_efficiency", e.network_bandwidth, Check::fraction, "fraction");
  e.nvls_bandwidth =
      r.number_or("nvls_bandwidth_efficiency", e.nvls_bandwidth, Check::fraction, "fraction");
  e.kernel_overhead = Seconds(
      r.number_or("kernel_overhead_s", e.kernel_overhead.value(), Check::non_negative, "s"));
  e.collective_latency = Seconds(
      r.number_or("collective_latency_s", e.collective_latency.value(), Check::non_negative, "s"));
  r.finish();
  for (const auto &[name, v] :
       {std::pair{"gemm_flops_efficiency", e.gemm_flops}, {"attention_flops_efficiency", e.attention_flops},
        {"hbm_bandwidth_efficiency", e.hbm_bandwidth}, {"nvlink_bandwidth_efficiency", e.link_bandwidth},
        {"network_bandwidth_efficiency", e.network_bandwidth},
        {"nvls_bandwidth_efficiency", e.nvls_bandwidth}})
    if (v <= 0) throw InputError(r.where(name) + ": must be > 0 (fraction)");
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
  const auto required = {"gemm_flops_efficiency", "attention_flops_efficiency",
                         "hbm_bandwidth_efficiency", "nvlink_bandwidth_efficiency",
                         "network_bandwidth_efficiency", "nvls_bandwidth_efficiency",
                         "kernel_overhead_s", "collective_latency_s"};
  JsonReader d = r.object("defaults");
  for (const char *k : required)
    if (!d.has(k)) throw InputError(d.where(k) + ": missing required field");
  apply(d, e);
  std::string provenance = file.string() + "#/defaults";
  const std::string arch = to_string(gpu.architecture);
  if (r.has("per_architecture")) {
    JsonReader pa = r.object("per_architecture");
    for (auto it = pa.json().begin(); it != pa.json().end(); ++it) {
      architecture_from_string(it.key()); // rejects unknown architecture names
      JsonReader o = pa.object(it.key());
      if (it.key() == arch) {
        apply(o, e);
        provenance += " + #/per_architecture/" + arch;
      } else {
        Efficiency scratch;
        apply(o, scratch); // validate the other entries too
      }
    }
    pa.finish();
  } else {
    r.ignore({"per_architecture"});
  }
  if (const auto *s = r.raw("sources")) {
    if (!s->is_object()) r.fail("sources", "must be an object of JSON pointer -> source");
    for (auto it = s->begin(); it != s->end(); ++it) {
      if (!it->is_string()) r.fail("sources", "each source must be a string");
      e.sources[it.key()] = it->get<std::string>();
    }
  }
  r.ignore({"description", "notes"});
  r.finish();
  e.origin = EfficiencyOrigin::spec;
  e.provenance = provenance;
  return e;
}

Efficiency builtin_efficiency(const GpuSpec &gpu) {
  return load_default_efficiency(data_dir() / "hardware" / "efficiency.json", gpu);
}

} // namespace rooftop::hw
