// Loading rooftop.gpu/1 files and the GPU catalogue.
#include "hwmodels/gpu_spec.hpp"

#include "core/catalogue.hpp"
#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"
#include "hwmodels/links.hpp"

#include <array>
#include <utility>

namespace rooftop::hw {
namespace {

constexpr std::array<std::pair<Architecture, const char *>, 8> k_arch{{
    {Architecture::volta, "volta"},
    {Architecture::ampere, "ampere"},
    {Architecture::ada, "ada"},
    {Architecture::hopper, "hopper"},
    {Architecture::blackwell, "blackwell"},
    {Architecture::blackwell_ultra, "blackwell_ultra"},
    {Architecture::rubin, "rubin"},
    {Architecture::cpu, "cpu"},
}};

// Bounds of the figures the model divides by or sizes with, far outside any GPU's (the catalogue
// spans 0.86e12..22e12 bytes/s of HBM and 1.2e12..3.5e16 FLOP/s): a value of 5e-324 bytes/s is
// "> 0" yet made every estimate infinite.
constexpr double k_min_rate = 1e9;       ///< bytes/s or FLOP/s
constexpr double k_max_bandwidth = 1e15; ///< bytes/s
constexpr double k_max_flops = 1e18;     ///< FLOP/s
// A reported total within [0.9, 1.2] x the datasheet capacity: the catalogue spans 1.001 (B300:
// 275040 MiB for "288 GB") to 1.074 (A100: 81920 MiB = 80 GiB for "80GB"); a figure outside
// the band is a typo, a unit slip (GiB for bytes) or another card's.
constexpr double k_min_reported_ratio = 0.9;
constexpr double k_max_reported_ratio = 1.2;

void read_memory(JsonReader r, GpuSpec &g) {
  g.memory_type = r.string("type");
  const double capacity = r.number("capacity_bytes", Check::positive, "bytes");
  g.memory_datasheet = Bytes(r.within("capacity_bytes", capacity, 1e6, 1e15, "bytes"));
  if (auto reported = r.optional_number("reported_bytes", Check::positive, "bytes")) {
    r.within("reported_bytes", *reported, 1e6, 1e15, "bytes");
    g.memory_reported = Bytes(r.within(
        "reported_bytes", *reported, k_min_reported_ratio * capacity,
        k_max_reported_ratio * capacity,
        "bytes, 0.9 to 1.2 x capacity_bytes"));
  }
  const double bw = r.number("bandwidth_Bps", Check::positive, "bytes/s");
  g.memory_bandwidth =
      BytesPerSecond(r.within("bandwidth_Bps", bw, k_min_rate, k_max_bandwidth, "bytes/s"));
  if (auto l2 = r.optional_number("l2_bytes", Check::positive, "bytes"))
    g.l2 = Bytes(r.within("l2_bytes", *l2, 1e3, 1e10, "bytes"));
  r.finish();
}

void read_flops(JsonReader r, GpuSpec &g) {
  for (const std::string_view f : DenseFlops::formats)
    if (auto v = r.optional_number(std::string(f), Check::positive, "FLOP/s"))
      g.dense_flops[f] =
          FlopsPerSecond(r.within(std::string(f), *v, k_min_rate, k_max_flops, "FLOP/s"));
  r.finish();
  if (!g.dense_flops.get("bf16"))
    throw InputError(r.where("bf16") + ": missing required field (FLOP/s)");
}

} // namespace

std::string to_string(Architecture a) {
  for (const auto &[k, n] : k_arch)
    if (k == a) return n;
  throw InternalError("to_string: unknown Architecture");
}

std::string to_string(CapacitySource s) {
  return s == CapacitySource::reported ? "reported" : "datasheet";
}

std::string capacity_label(CapacitySource s) {
  return s == CapacitySource::reported ? "nvidia-smi total"
                                       : "datasheet figure: no reported total";
}

Architecture architecture_from_string(const std::string &s) {
  std::string valid;
  for (const auto &[k, n] : k_arch) {
    if (s == n) return k;
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  }
  throw InputError("unknown architecture '" + s + "': expected one of " + valid);
}

FlopsPerSecond &DenseFlops::operator[](std::string_view format) {
  for (std::size_t i = 0; i < formats.size(); ++i)
    if (formats[i] == format) return rates_[i];
  throw InternalError("DenseFlops: unknown format '" + std::string(format) + "'");
}

std::optional<FlopsPerSecond> DenseFlops::get(std::string_view format) const {
  for (std::size_t i = 0; i < formats.size(); ++i)
    if (formats[i] == format && rates_[i].value() > 0) return rates_[i];
  return std::nullopt;
}

std::vector<std::pair<std::string, FlopsPerSecond>> DenseFlops::entries() const {
  std::vector<std::pair<std::string, FlopsPerSecond>> out;
  for (std::size_t i = 0; i < formats.size(); ++i)
    if (rates_[i].value() > 0) out.emplace_back(formats[i], rates_[i]);
  return out;
}

GpuSpec load_gpu(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.gpu/1") r.fail("schema", "expected \"rooftop.gpu/1\"");
  GpuSpec g;
  g.file = file.string();
  g.id = r.string("id");
  g.name = r.string("name");
  try {
    g.architecture = architecture_from_string(r.string("architecture"));
  } catch (const InputError &e) {
    r.fail("architecture", e.what());
  }
  g.form_factor = r.string("form_factor");
  g.preliminary = r.boolean_or("preliminary", false);
  if (auto v = r.optional_integer("sm_count")) g.sm_count = r.to_int("sm_count", *v);
  if (auto v = r.optional_number("boost_clock_hz", Check::positive, "Hz"))
    g.boost_clock = Hertz(*v);
  g.tdp_w = r.optional_number("tdp_w", Check::positive, "W");
  read_memory(r.object("memory"), g);
  read_flops(r.object("dense_flops_per_s"), g);
  if (r.has("nvlink")) {
    JsonReader n = r.object("nvlink");
    const double bw = n.number("bandwidth_bidirectional_Bps", Check::positive,
                               "bytes/s, both directions");
    g.nvlink = NvlinkSpec{n.to_int("generation", n.integer("generation")),
                          n.to_int("links", n.integer_or("links", 0, Check::positive_integer)),
                          BytesPerSecond(n.within("bandwidth_bidirectional_Bps", bw, k_min_rate,
                                                  k_max_bandwidth, "bytes/s, both directions"))};
    n.finish();
  } else {
    r.ignore({"nvlink"});
  }
  if (r.has("pcie")) {
    JsonReader p = r.object("pcie");
    g.pcie = PcieSpec{p.to_int("generation", p.integer("generation")),
                      p.to_int("lanes", p.integer("lanes"))};
    p.finish();
  } else {
    r.ignore({"pcie"});
  }
  if (!g.nvlink && !g.pcie)
    throw InputError(r.where("pcie") + ": a GPU needs an nvlink or a pcie entry");
  g.sources = r.string_map("sources");
  g.notes = r.string_list("notes");
  r.finish();
  return g;
}

GpuCatalogue GpuCatalogue::load(const std::filesystem::path &dir) {
  GpuCatalogue c;
  for (const auto &f : catalogue_files(dir, "GPU catalogue")) {
    GpuSpec g = load_gpu(f);
    check_id_matches_file(g.id, f);
    c.gpus_.emplace(g.id, std::move(g));
  }
  return c;
}

const GpuCatalogue &GpuCatalogue::builtin() {
  static const GpuCatalogue c = [] {
    GpuCatalogue g = load(data_dir() / "hardware" / "gpus");
    // Every GPU's NVLink figure agrees with links.json wherever the catalogue is read (hw list
    // and show too), not only where systems load.
    for (const auto &[id, gpu] : g.all()) check_nvlink(gpu, builtin_links());
    return g;
  }();
  return c;
}

const GpuSpec &GpuCatalogue::get(const std::string &id) const {
  auto it = gpus_.find(id);
  if (it != gpus_.end()) return it->second;
  throw InputError("unknown GPU '" + id + "': known GPUs are " + known_ids(gpus_));
}

std::string measured_on_mismatch(const std::string &gpu, const std::string &architecture) {
  try {
    (void)architecture_from_string(architecture);
  } catch (const InputError &e) {
    return e.what();
  }
  if ((gpu == "host-cpu") != (architecture == "cpu"))
    return "must be \"cpu\" exactly when /gpu is \"host-cpu\" (a CPU run never transfers to a GPU)";
  const auto &all = GpuCatalogue::builtin().all();
  if (auto it = all.find(gpu);
      it != all.end() && to_string(it->second.architecture) != architecture)
    return "disagrees with /gpu = \"" + gpu + "\", a " + to_string(it->second.architecture) +
           " GPU";
  return "";
}

} // namespace rooftop::hw
