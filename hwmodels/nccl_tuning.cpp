// Loading NCCL's tuner constants (rooftop.nccl_tuning/1).
#include "hwmodels/nccl_tuning.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"

namespace rooftop::hw {
namespace {

// Bounds beyond which a value is a typo, not NCCL's (its latencies are 0-31 us, its bandwidths
// 0.12-282 GB/s, its fractions 0.26-1).
constexpr double k_max_latency_s = 1e-3;
constexpr double k_min_Bps = 1e6, k_max_Bps = 1e15;

const char *const k_protocols[] = {"LL", "LL128", "Simple"};
const char *const k_generations[] = {"volta", "ampere", "hopper", "blackwell"};

double latency(JsonReader &r, const std::string &key) {
  return r.within(key, r.number(key, Check::non_negative, "s"), 0, k_max_latency_s, "s");
}

BytesPerSecond bandwidth(JsonReader &r, const std::string &key) {
  const double v = r.number(key, Check::positive, "bytes/s");
  return BytesPerSecond(r.within(key, v, k_min_Bps, k_max_Bps, "bytes/s"));
}

double fraction(JsonReader &r, const std::string &key) {
  const double v = r.number(key, Check::fraction, "fraction");
  if (v <= 0)
    r.fail(key, "must be in (0, 1] (fraction)");
  return v;
}

/// {"LL": .., "LL128": .., "Simple": ..} of latencies.
PerProtocol<Seconds> protocol_latencies(JsonReader r) {
  PerProtocol<Seconds> out;
  for (std::size_t p = 0; p < 3; ++p)
    out[p] = Seconds(latency(r, k_protocols[p]));
  r.finish();
  return out;
}

/// {"tree": {...}, "ring": {...}} of per-protocol latencies.
std::array<PerProtocol<Seconds>, 2> algorithm_latencies(JsonReader r) {
  std::array<PerProtocol<Seconds>, 2> out{protocol_latencies(r.object("tree")),
                                          protocol_latencies(r.object("ring"))};
  r.finish();
  return out;
}

/// A JSON array of numbers in [lo, hi], of `size` elements (0: any non-empty size).
std::vector<double> numbers(JsonReader &r, const std::string &key, std::size_t size, double lo,
                            double hi, const std::string &unit) {
  const auto &a = r.array(key);
  if (a.empty() || (size > 0 && a.size() != size))
    r.fail(key, size > 0 ? "must hold " + std::to_string(size) + " numbers" : "must not be empty");
  std::vector<double> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string at = key + "/" + std::to_string(i);
    if (!a[i].is_number())
      r.fail(at, "must be a number (" + unit + ")");
    out.push_back(r.within(at, a[i].get<double>(), lo, hi, unit));
  }
  return out;
}

/// {"volta": [1 node, 2 nodes, more], ...} of per-channel caps.
PerGeneration<PerNodes> per_generation_caps(JsonReader r) {
  PerGeneration<PerNodes> out;
  for (std::size_t g = 0; g < 4; ++g) {
    const auto v = numbers(r, k_generations[g], 3, k_min_Bps, k_max_Bps, "bytes/s");
    for (std::size_t n = 0; n < 3; ++n)
      out[g][n] = BytesPerSecond(v[n]);
  }
  r.finish();
  return out;
}

/// {"before_sm90": [...], "sm90": [...], "sm100": [...]}, each strictly decreasing.
SpeedArrays speeds(JsonReader r) {
  SpeedArrays out;
  const char *const keys[] = {"before_sm90", "sm90", "sm100"};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = numbers(r, keys[i], 0, k_min_Bps, k_max_Bps, "bytes/s");
    for (std::size_t j = 0; j < v.size(); ++j) {
      if (j > 0 && v[j] >= v[j - 1])
        r.fail(keys[i], "speeds must decrease (NCCL tries the fastest first)");
      out[i].push_back(BytesPerSecond(v[j]));
    }
  }
  r.finish();
  return out;
}

void read_channel_search(JsonReader r, NcclTuning &t) {
  t.speeds_intra = speeds(r.object("speeds_intra_Bps"));
  t.speeds_inter = speeds(r.object("speeds_inter_Bps"));
  t.max_ring_channels = r.to_int("max_ring_channels", r.integer("max_ring_channels"));
  if (t.max_ring_channels > 64)
    r.fail("max_ring_channels", "must be in [1, 64] (channels)");
  t.next_speed_min_ratio = fraction(r, "next_speed_min_ratio");
  t.duplicate_min = bandwidth(r, "duplicate_min_Bps");
  t.duplicate_after_sm80_min = bandwidth(r, "duplicate_after_sm80_min_Bps");
  t.duplicate_after_sm80_max_channels =
      r.to_int("duplicate_after_sm80_max_channels", r.integer("duplicate_after_sm80_max_channels"));
  r.finish();
}

void read_bandwidths(JsonReader &r, NcclTuning &t) {
  JsonReader ll = r.object("ll_max_bus_bandwidth_Bps");
  JsonReader one = ll.object("one_node");
  for (std::size_t g = 0; g < 4; ++g)
    t.ll_max_one_node[g] = bandwidth(one, k_generations[g]);
  one.finish();
  t.ll_max_two_nodes = bandwidth(ll, "two_nodes");
  t.ll_max_more_nodes = bandwidth(ll, "more_nodes");
  ll.finish();
  JsonReader caps = r.object("per_channel_max_bus_bandwidth_Bps");
  t.per_channel_ring_ll128 = per_generation_caps(caps.object("ring_LL128"));
  t.per_channel_tree = per_generation_caps(caps.object("tree"));
  t.per_channel_tree_ll128 = per_generation_caps(caps.object("tree_LL128"));
  caps.finish();
  JsonReader f = r.object("bandwidth_fraction");
  t.ring_ll_fraction = fraction(f, "ring_LL");
  t.ring_ll128_fraction = fraction(f, "ring_LL128");
  t.tree_fraction = fraction(f, "tree");
  t.tree_ll_fraction = fraction(f, "tree_LL");
  t.tree_ll128_fraction_one_node = fraction(f, "tree_LL128_one_node");
  t.tree_ll128_fraction_more_nodes = fraction(f, "tree_LL128_more_nodes");
  t.tree_one_gpu_per_node_fraction = fraction(f, "tree_one_gpu_per_node");
  f.finish();
  JsonReader tc = r.object("tree_correction");
  for (std::size_t p = 0; p < 3; ++p)
    t.tree_correction[p] = numbers(tc, k_protocols[p], 24, 1e-3, 1, "fraction");
  tc.finish();
}

} // namespace

std::string to_string(NcclProtocol p) { return k_protocols[static_cast<int>(p)]; }

std::string to_string(NcclFabric f) {
  switch (f) {
  case NcclFabric::nvlink:
    return "nvlink";
  case NcclFabric::pci:
    return "pci";
  case NcclFabric::net:
    return "net";
  }
  throw InternalError("to_string: unknown NcclFabric");
}

NcclTuning load_nccl_tuning(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.nccl_tuning/1")
    r.fail("schema", "expected \"rooftop.nccl_tuning/1\"");
  NcclTuning t;
  t.file = file.string();
  t.version = r.string("nccl_version");
  t.commit = r.string("nccl_commit");
  r.ignore({"description"});
  t.base_latency = algorithm_latencies(r.object("base_latency_s"));
  JsonReader hop = r.object("hop_latency_s");
  t.hop_latency = {algorithm_latencies(hop.object("nvlink")),
                   algorithm_latencies(hop.object("pci")), algorithm_latencies(hop.object("net"))};
  hop.finish();
  read_bandwidths(r, t);
  t.net_overhead = Seconds(latency(r, "net_overhead_s"));
  t.net_overhead_simple_factor =
      r.within("net_overhead_simple_factor",
               r.number("net_overhead_simple_factor", Check::positive, "factor"), 1, 100, "factor");
  JsonReader plateau = r.object("ring_simple_multi_node_latency_factor");
  t.ring_simple_plateau_before_sm80 = plateau.within(
      "before_sm80", plateau.number("before_sm80", Check::positive, "factor"), 1, 100, "factor");
  t.ring_simple_plateau =
      plateau.within("sm80_and_later", plateau.number("sm80_and_later", Check::positive, "factor"),
                     1, 100, "factor");
  plateau.finish();
  read_channel_search(r.object("channel_search"), t);
  t.sources = r.string_map("sources");
  r.finish();
  return t;
}

const NcclTuning &builtin_nccl_tuning() {
  static const NcclTuning t = load_nccl_tuning(data_dir() / "hardware" / "nccl_tuning.json");
  return t;
}

int nccl_compute_capability(Architecture a) {
  switch (a) {
  case Architecture::volta:
    return 70;
  case Architecture::ampere:
    return 80;
  case Architecture::ada:
    return 89;
  case Architecture::hopper:
    return 90;
  case Architecture::blackwell:
    return 100;
  case Architecture::blackwell_ultra:
    return 103;
  case Architecture::rubin:
    return 100; // not published; NCCL's newest index is ">= 100"
  case Architecture::cpu:
    break;
  }
  throw NotSupported("NCCL's tuner has no constants for a CPU");
}

NcclGeneration nccl_generation(int cc) {
  // tuning.cc compCapIndex: >= 100 Blackwell, >= 90 Hopper, >= 80 Ampere, else Volta
  return cc >= 100  ? NcclGeneration::blackwell
         : cc >= 90 ? NcclGeneration::hopper
         : cc >= 80 ? NcclGeneration::ampere
                    : NcclGeneration::volta;
}

NcclFabric nccl_fabric(const LinkSpec &link) {
  if (link.kind == "pcie")
    return NcclFabric::pci;
  if (link.kind == "infiniband" || link.kind == "ethernet")
    return NcclFabric::net;
  return NcclFabric::nvlink; // nvlink, nvswitch, c2c
}

} // namespace rooftop::hw
