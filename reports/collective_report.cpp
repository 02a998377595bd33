// Rendering collective sweeps and systems.
#include "reports/collective_report.hpp"

#include "reports/format.hpp"

#include <fmt/format.h>

namespace rooftop::rep {
namespace {

nlohmann::ordered_json link_json(const hw::LinkSpec &l) {
  return {{"id", l.id},
          {"kind", l.kind},
          {"bandwidth_one_way_Bps", l.bandwidth_one_way.value()},
          {"latency_s", l.latency.value()},
          {"in_switch_reduction", l.in_switch_reduction},
          {"source", l.source}};
}

std::string gbps(BytesPerSecond b) { return fmt::format("{:.1f} GB/s", b.value() / 1e9); }

/// Which NCCL tuner the protocols come from; null without one (--ideal).
nlohmann::ordered_json nccl_json(const sim::Level &l) {
  if (!l.nccl) return nullptr;
  return {{"version", l.nccl->version},
          {"commit", l.nccl->commit},
          {"file", l.nccl->file},
          {"fabric", hw::to_string(l.fabric)},
          {"compute_capability", l.compute_capability}};
}

} // namespace

nlohmann::ordered_json collective_json(const CollectiveInputs &in,
                                       const std::vector<sim::CollectiveCost> &rows) {
  const auto [intra, inter] = sim::cluster_levels(in.cluster, in.efficiency);
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto &r : rows)
    results.push_back({{"size_bytes", r.size.value()},
                       {"time_s", r.time.value()},
                       {"algbw_Bps", r.algbw.value()},
                       {"busbw_Bps", r.busbw.value()},
                       {"algorithm", r.algorithm},
                       {"protocol", r.protocol},
                       {"intra_time_s", r.intra_time.value()},
                       {"inter_time_s", r.inter_time.value()}});
  return {{"schema", "rooftop.collective/1"},
          {"rooftop_version", version()},
          {"git_sha", git_sha()},
          {"op", sim::to_string(in.op)},
          {"system", in.cluster.system.id},
          {"nodes", in.cluster.nodes},
          {"oversubscription", in.cluster.oversubscription},
          {"ranks", in.placement.size},
          {"ranks_per_domain", in.placement.per_domain},
          {"domains", in.placement.domains()},
          {"scale_up",
           {{"link", in.cluster.system.scale_up_link.id},
            {"topology", hw::to_string(in.cluster.system.topology)},
            {"bandwidth_one_way_Bps", intra.bandwidth.value()},
            {"latency_s", intra.alpha.value()},
            {"in_switch_reduction", intra.in_switch}}},
          {"scale_out",
           {{"nic", in.cluster.system.nic.id},
            {"bandwidth_one_way_Bps", inter.bandwidth.value()},
            {"latency_s", inter.alpha.value()}}},
          {"efficiency",
           {{"origin", hw::to_string(in.efficiency.origin)},
            {"provenance", in.efficiency.provenance},
            {"link_bandwidth_efficiency", in.efficiency.link_bandwidth},
            {"network_bandwidth_efficiency", in.efficiency.network_bandwidth},
            {"collective_latency_s", in.efficiency.collective_latency.value()}}},
          {"nccl_tuning", nccl_json(intra)},
          {"results", results}};
}

std::string collective_text(const CollectiveInputs &in,
                            const std::vector<sim::CollectiveCost> &rows) {
  const auto &s = in.cluster.system;
  const auto [intra, inter] = sim::cluster_levels(in.cluster, in.efficiency);
  std::string out = fmt::format(
      "{} over {} GPUs of {} x {} ({} per scale-up domain, {} domain(s))\n", sim::to_string(in.op),
      in.placement.size, in.cluster.nodes, s.id, in.placement.per_domain, in.placement.domains());
  out += fmt::format("  scale-up: {} {} at {} one way per GPU (after x{:.2f} efficiency){}\n",
                     hw::to_string(s.topology), s.scale_up_link.id, gbps(intra.bandwidth),
                     in.efficiency.link_bandwidth, intra.in_switch ? ", in-switch reduction" : "");
  if (in.placement.domains() > 1)
    out += fmt::format("  scale-out: {} x {:.2f} per GPU at {} one way (x{:.2f} efficiency, "
                       "oversubscription {:.2f})\n",
                       s.nic.id, s.nics_per_gpu, gbps(inter.bandwidth),
                       in.efficiency.network_bandwidth, in.cluster.oversubscription);
  out += fmt::format("  efficiency: {} ({})\n", hw::to_string(in.efficiency.origin),
                     in.efficiency.provenance);
  out += intra.nccl ? fmt::format("  protocols: NCCL {} tuner ({})\n\n", intra.nccl->version,
                                  intra.nccl->file)
                    : std::string("  protocols: none (ideal: one protocol at line rate)\n\n");
  out += fmt::format("{:>14} {:>12} {:>13} {:>13}  {:<12} {}\n", "size (B)", "time (us)",
                     "algbw (GB/s)", "busbw (GB/s)", "protocol", "algorithm");
  for (const auto &r : rows)
    out += fmt::format("{:>14.0f} {:>12.2f} {:>13.2f} {:>13.2f}  {:<12} {}\n", r.size.value(),
                       r.time.value() * 1e6, r.algbw.value() / 1e9, r.busbw.value() / 1e9,
                       r.protocol.empty() ? "-" : r.protocol, r.algorithm);
  out += "(GB/s = 1e9 bytes/s; busbw as nccl-tests defines it)\n";
  return out;
}

nlohmann::ordered_json system_json(const hw::SystemSpec &s) {
  nlohmann::ordered_json j = {{"id", s.id},
                              {"name", s.name},
                              {"gpu", s.gpu},
                              {"gpus_per_node", s.gpus_per_node},
                              {"topology", hw::to_string(s.topology)},
                              {"domain_gpus", s.domain_gpus},
                              {"scale_up_link", link_json(s.scale_up_link)},
                              {"pair_bandwidth_one_way_Bps", s.pair_bandwidth().value()},
                              {"nic", link_json(s.nic)},
                              {"nics_per_gpu", s.nics_per_gpu},
                              {"scale_out_bandwidth_one_way_Bps_per_gpu",
                               s.scale_out_bandwidth().value()},
                              {"cpu_link", link_json(s.cpu_link)},
                              {"sources", s.sources},
                              {"notes", s.notes},
                              {"file", s.file}};
  if (s.switch_link) j["switch"] = link_json(*s.switch_link);
  return j;
}

std::string system_text(const hw::SystemSpec &s) {
  std::string out = fmt::format("{} ({})\n", s.name, s.id);
  out += fmt::format("  {} x {} per node; scale-up {} over {} ({} GPUs per domain): {} one way per "
                     "GPU, {} per pair\n",
                     s.gpus_per_node, s.gpu, hw::to_string(s.topology), s.scale_up_link.id,
                     s.domain_gpus, gbps(s.scale_up_bandwidth()), gbps(s.pair_bandwidth()));
  if (s.switch_link)
    out += fmt::format("  switch {}{}\n", s.switch_link->id,
                       s.in_switch_reduction() ? " (in-switch reduction, NVLink SHARP)" : "");
  out += fmt::format("  scale-out: {} x {:.2f} per GPU = {} one way per GPU\n", s.nic.id,
                     s.nics_per_gpu, gbps(s.scale_out_bandwidth()));
  out += fmt::format("  CPU link: {} ({} one way)\n", s.cpu_link.id,
                     gbps(s.cpu_link.bandwidth_one_way));
  for (const auto &n : s.notes) out += "  note: " + n + "\n";
  out += "  sources:\n";
  for (const auto &[k, v] : s.sources) out += fmt::format("    {}: {}\n", k, v);
  return out;
}

std::string system_list_text(const hw::SystemCatalogue &c) {
  std::string out = fmt::format("{:<16} {:<14} {:>5} {:<9} {:>13} {:>14}  {}\n", "id", "gpu",
                                "GPUs", "topology", "scale-up GB/s", "scale-out GB/s", "name");
  for (const auto &[id, s] : c.all())
    out += fmt::format("{:<16} {:<14} {:>5} {:<9} {:>13.0f} {:>14.1f}  {}\n", id, s.gpu,
                       s.gpus_per_node, hw::to_string(s.topology),
                       s.scale_up_bandwidth().value() / 1e9, s.scale_out_bandwidth().value() / 1e9,
                       s.name);
  out += "(per GPU, one way; GB = 1e9 bytes)\n";
  return out;
}

} // namespace rooftop::rep
