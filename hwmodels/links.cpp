// Loading link specs and choosing a GPU's scale-up path.
#include "hwmodels/links.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "core/paths.hpp"

#include <algorithm>
#include <cmath>

namespace rooftop::hw {

std::vector<LinkSpec> load_links(const std::filesystem::path &file) {
  const auto j = read_json_file(file);
  JsonReader r(j, file.string());
  if (r.string("schema") != "rooftop.links/1") r.fail("schema", "expected \"rooftop.links/1\"");
  const auto &arr = r.array("links");
  r.finish();
  std::vector<LinkSpec> out;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonReader e(arr[i], file.string(), "/links/" + std::to_string(i));
    LinkSpec l;
    l.id = e.string("id");
    l.kind = e.string("kind");
    static const std::vector<std::string> kinds{"pcie", "nvlink", "nvswitch",
                                                "c2c",  "infiniband", "ethernet"};
    if (std::find(kinds.begin(), kinds.end(), l.kind) == kinds.end())
      e.fail("kind", "expected one of pcie, nvlink, nvswitch, c2c, infiniband, ethernet");
    l.generation = e.to_int("generation", e.integer_or("generation", 0));
    l.lanes = e.to_int("lanes", e.integer_or("lanes", 0));
    if (l.kind == "pcie" && (l.generation == 0 || l.lanes == 0))
      e.fail(l.generation == 0 ? "generation" : "lanes", "required for a PCIe link");
    l.links = e.to_int("links", e.integer_or("links", 0));
    if (l.links > 0 && l.kind != "nvlink") e.fail("links", "only for an NVLink link");
    l.in_switch_reduction = e.boolean_or("in_switch_reduction", false);
    // Bounds far outside any link's (1 GbE is 1.25e8 bytes/s, NVLink 6 1.8e12), so that a
    // bandwidth of 5e-324 cannot make a collective take forever.
    const double isl = e.number_or("in_switch_latency_s", 0, Check::non_negative, "s");
    l.in_switch_latency = Seconds(e.within("in_switch_latency_s", isl, 0, 1, "s"));
    const double bw = e.number("bandwidth_one_way_Bps", Check::positive, "bytes/s, one way");
    l.bandwidth_one_way =
        BytesPerSecond(e.within("bandwidth_one_way_Bps", bw, 1e6, 1e15, "bytes/s, one way"));
    l.latency =
        Seconds(e.within("latency_s", e.number("latency_s", Check::non_negative, "s"), 0, 1, "s"));
    l.source = e.string("source");
    l.where = file.string() + ": /links/" + std::to_string(i);
    e.finish();
    out.push_back(l);
  }
  return out;
}

const LinkSpec &find_link(const std::vector<LinkSpec> &links, const std::string &id,
                          const std::string &where) {
  for (const auto &l : links)
    if (l.id == id) return l;
  std::string known;
  for (const auto &l : links) known += (known.empty() ? "" : ", ") + l.id;
  throw InputError(where + " = \"" + id + "\": unknown link (known: " + known + ")");
}

const std::vector<LinkSpec> &builtin_links() {
  static const std::vector<LinkSpec> links = load_links(data_dir() / "hardware" / "links.json");
  return links;
}

void check_nvlink_against(const GpuSpec &gpu, const LinkSpec &link) {
  if (!gpu.nvlink)
    throw InputError(gpu.file + ": /nvlink: missing, but " + link.where + " (" + link.id +
                     ") is its NVLink scale-up link");
  if (link.kind == "nvlink" && link.generation != gpu.nvlink->generation)
    throw InputError(gpu.file + ": /nvlink/generation = " + std::to_string(gpu.nvlink->generation) +
                     ": disagrees with " + link.where + " (" + link.id + "), an NVLink " +
                     std::to_string(link.generation) + " link");
  const auto num = [](double v) { return nlohmann::json(v).dump(); };
  const bool scaled = gpu.nvlink->links > 0 && link.links > 0;
  const int gpu_links = scaled ? gpu.nvlink->links : 1, entry_links = scaled ? link.links : 1;
  // B_bidirectional = 2 x B_one_way x gpu links / entry links
  const double implied = 2 * link.bandwidth_one_way.value() * gpu_links / entry_links;
  const double stored = gpu.nvlink->bandwidth_bidirectional.value();
  if (std::abs(stored - implied) <= 1e-9 * implied) return;
  throw InputError(gpu.file + ": /nvlink/bandwidth_bidirectional_Bps = " + num(stored) +
                   ": disagrees with " + link.where + "/bandwidth_one_way_Bps = " +
                   num(link.bandwidth_one_way.value()) + " (" + link.id +
                   "): GPU files store NVLink bandwidth bidirectional (both directions summed, "
                   "per GPU), links.json one way per GPU, so it implies 2 x " +
                   num(link.bandwidth_one_way.value()) + " x " + std::to_string(gpu_links) +
                   " / " + std::to_string(entry_links) + " links = " + num(implied) +
                   " bytes/s bidirectional");
}

void check_nvlink(const GpuSpec &gpu, const std::vector<LinkSpec> &links) {
  if (!gpu.nvlink) return;
  for (const auto &l : links)
    if (l.kind == "nvlink" && l.generation == gpu.nvlink->generation)
      return check_nvlink_against(gpu, l);
  throw InputError(gpu.file + ": /nvlink/generation = " + std::to_string(gpu.nvlink->generation) +
                   ": no NVLink link of that generation in data/hardware/links.json");
}

ScaleUpPath scale_up_path(const GpuSpec &gpu, long long group_size) {
  const bool bridge_only = gpu.form_factor == "pcie";
  if (gpu.nvlink && !(bridge_only && group_size > 2))
    // NVLink latency: order of 1 us per hop is folded into the collective latency of Efficiency.
    return {"NVLink " + std::to_string(gpu.nvlink->generation), gpu.nvlink->one_way(), Seconds(0)};
  if (!gpu.pcie) throw InternalError(gpu.id + ": neither NVLink nor PCIe");
  for (const auto &l : builtin_links())
    if (l.kind == "pcie" && l.generation == gpu.pcie->generation) {
      // A link narrower than x16 scales with its lane count.
      const double lanes = static_cast<double>(gpu.pcie->lanes) / static_cast<double>(l.lanes);
      return {"PCIe gen" + std::to_string(l.generation) + " x" + std::to_string(gpu.pcie->lanes),
              l.bandwidth_one_way * lanes, l.latency};
    }
  throw InputError(gpu.file + ": /pcie/generation = " + std::to_string(gpu.pcie->generation) +
                   ": no such PCIe generation in data/hardware/links.json");
}

} // namespace rooftop::hw
