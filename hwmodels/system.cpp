// Loading systems and building clusters.
#include "hwmodels/system.hpp"

#include "core/catalogue.hpp"
#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::hw {

std::string to_string(Topology t) {
  switch (t) {
  case Topology::nvswitch: return "nvswitch";
  case Topology::p2p: return "p2p";
  case Topology::pcie: return "pcie";
  }
  throw InternalError("to_string: unknown Topology");
}

BytesPerSecond SystemSpec::pair_bandwidth() const {
  if (topology != Topology::p2p || domain_gpus < 2) return scale_up_bandwidth();
  return scale_up_bandwidth() / static_cast<double>(domain_gpus - 1);
}

SystemSpec load_system(const std::filesystem::path &file, const std::vector<LinkSpec> &links,
                       const GpuCatalogue &gpus) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.system/1") r.fail("schema", "expected \"rooftop.system/1\"");
  SystemSpec s;
  s.file = file.string();
  s.id = r.string("id");
  s.name = r.string("name");
  s.gpu = r.string("gpu");
  const GpuSpec *gpu = nullptr;
  try {
    gpu = &gpus.get(s.gpu);
  } catch (const InputError &e) {
    r.fail("gpu", e.what());
  }
  s.gpu_architecture = gpu->architecture;
  s.gpus_per_node = r.integer("gpus_per_node");
  JsonReader u = r.object("scale_up");
  const std::string topo = u.string("topology");
  if (topo == "nvswitch") s.topology = Topology::nvswitch;
  else if (topo == "p2p") s.topology = Topology::p2p;
  else if (topo == "pcie") s.topology = Topology::pcie;
  else u.fail("topology", "expected nvswitch, p2p or pcie");
  s.scale_up_link = find_link(links, u.string("link"), u.where("link"));
  s.domain_gpus = u.integer("domain_gpus");
  if (s.domain_gpus > s.gpus_per_node && s.gpus_per_node > 0 && s.domain_gpus % s.gpus_per_node)
    u.fail("domain_gpus", "must be a multiple of gpus_per_node when larger");
  if (auto sw = u.optional_string("switch")) s.switch_link = find_link(links, *sw, u.where("switch"));
  if (s.topology == Topology::nvswitch && !s.switch_link)
    u.fail("switch", "required for topology nvswitch");
  // The scale-up link and the switch carry the GPU's whole NVLink bandwidth, one way per GPU.
  const auto check_scale_up = [&](const char *key, const LinkSpec &link) {
    if (link.kind != "nvlink" && link.kind != "nvswitch") return;
    try {
      check_nvlink_against(*gpu, link);
    } catch (const InputError &e) {
      u.fail(key, e.what());
    }
  };
  check_scale_up("link", s.scale_up_link);
  if (s.switch_link) check_scale_up("switch", *s.switch_link);
  u.finish();
  JsonReader o = r.object("scale_out");
  s.nic = find_link(links, o.string("nic"), o.where("nic"));
  s.nics_per_gpu = o.within("nics_per_gpu",
                             o.number("nics_per_gpu", Check::positive, "NIC ports per GPU"),
                             1.0 / 64, 64, "NIC ports per GPU");
  o.finish();
  s.cpu_link = find_link(links, r.string("cpu_link"), r.where("cpu_link"));
  s.sources = r.string_map("sources");
  s.notes = r.string_list("notes");
  r.finish();
  return s;
}

SystemCatalogue SystemCatalogue::load(const std::filesystem::path &dir,
                                      const std::vector<LinkSpec> &links, const GpuCatalogue &gpus) {
  // Every GPU's NVLink figure must agree with links.json, not only those a system uses.
  for (const auto &[id, g] : gpus.all()) check_nvlink(g, links);
  SystemCatalogue c;
  for (const auto &f : catalogue_files(dir, "system catalogue")) {
    SystemSpec s = load_system(f, links, gpus);
    check_id_matches_file(s.id, f);
    c.systems_.emplace(s.id, std::move(s));
  }
  return c;
}

const SystemCatalogue &SystemCatalogue::builtin() {
  static const SystemCatalogue c =
      load(data_dir() / "hardware" / "systems", builtin_links(), GpuCatalogue::builtin());
  return c;
}

const SystemSpec &SystemCatalogue::get(const std::string &id) const {
  auto it = systems_.find(id);
  if (it != systems_.end()) return it->second;
  throw InputError("unknown system '" + id + "': known systems are " + known_ids(systems_));
}

bool SystemCatalogue::holds(const std::string &gpu_id) const {
  for (const auto &[id, s] : systems_)
    if (s.gpu == gpu_id) return true;
  return false;
}

const SystemSpec &SystemCatalogue::default_for_gpu(const std::string &gpu_id) const {
  // The usual system for a GPU is its largest scale-up domain (HGX 8-GPU rather than the 4-GPU
  // board, an NVL72 rack for gb200/b300/rubin); ties go to id order.
  const SystemSpec *best = nullptr;
  for (const auto &[id, s] : systems_)
    if (s.gpu == gpu_id && (!best || s.domain_gpus > best->domain_gpus)) best = &s;
  if (!best) throw InputError("no system in data/hardware/systems uses GPU '" + gpu_id + "'");
  return *best;
}

std::string standalone_limit(const GpuSpec &gpu) {
  return "no system in data/hardware/systems holds " + gpu.id + ", and one server of them holds "
         "at most " + std::to_string(k_max_standalone_gpus) +
         " (as NVIDIA's PCIe reference servers: 4 or 8)";
}

Cluster cluster_for_gpu(const GpuSpec &gpu, long long gpus, long long group) {
  const auto &cat = SystemCatalogue::builtin();
  if (cat.holds(gpu.id)) {
    const auto &usual = cat.default_for_gpu(gpu.id);
    return make_cluster(usual, (gpus + usual.gpus_per_node - 1) / usual.gpus_per_node);
  }
  if (gpus > k_max_standalone_gpus)
    throw InputError(std::to_string(gpus) + " x " + gpu.id + ": " + standalone_limit(gpu));
  const ScaleUpPath path = scale_up_path(gpu, group > 0 ? group : gpus);
  SystemSpec s;
  s.id = gpu.id + "-standalone";
  s.name = std::to_string(gpus) + " x " + gpu.name + " in one server";
  s.gpu = gpu.id;
  s.gpu_architecture = gpu.architecture;
  s.gpus_per_node = std::max(1LL, gpus);
  s.topology = path.name.rfind("PCIe", 0) == 0 ? Topology::pcie : Topology::p2p;
  s.scale_up_link.id = path.name;
  s.scale_up_link.kind = s.topology == Topology::pcie ? "pcie" : "nvlink";
  s.scale_up_link.bandwidth_one_way = path.bandwidth_one_way;
  s.scale_up_link.latency = path.latency;
  s.scale_up_link.source = "scale-up path of " + gpu.file;
  s.domain_gpus = s.gpus_per_node;
  s.nic = s.scale_up_link; // one node: the network is never used
  s.nics_per_gpu = 1;
  s.cpu_link = s.scale_up_link;
  s.notes.push_back("no system in data/hardware/systems uses " + gpu.id +
                    ": one server assumed, GPUs joined by " + path.name);
  // An NVLink bridge (p2p between a pair) gives the full link to its one peer.
  if (s.topology == Topology::p2p) s.topology = Topology::nvswitch;
  return make_cluster(s, 1);
}

Cluster make_cluster(const SystemSpec &system, long long nodes, double oversubscription) {
  if (nodes < 1) throw InputError("--nodes = " + std::to_string(nodes) + ": must be >= 1");
  if (nodes > (1LL << 24) / std::max(1LL, system.gpus_per_node))
    throw InputError("--nodes = " + std::to_string(nodes) + ": more than 2^24 GPUs");
  if (!(oversubscription >= 1.0) || !std::isfinite(oversubscription))
    throw InputError("--oversubscription must be a finite number >= 1 (1 = non-blocking fat tree)");
  return Cluster{system, nodes, oversubscription};
}

} // namespace rooftop::hw
