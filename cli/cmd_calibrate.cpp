// `rooftop calibrate`: run the plan on a backend, write the calibration file, fit the
// efficiency table and print the held-out error.
#include "calibration/backend.hpp"
#include "calibration/calibration_file.hpp"
#include "calibration/fit.hpp"
#include "calibration/runner.hpp"
#include "calibration/stats.hpp"
#include "cli/calibration_predict.hpp"
#include "cli/commands.hpp"
#include "core/errors.hpp"
#include "core/parse.hpp"
#include "core/paths.hpp"
#include "hwmodels/efficiency.hpp"
#include "reports/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace rooftop::cli {
namespace {

struct CalibrateArgs {
  std::string backend = "cuda", gpu, out, efficiency_out, refit;
  int device = 0;
  bool quick = false, check_only = false;
  std::string max_stream_bytes; ///< a size (core/parse.hpp); empty: the default
  double max_seconds = 0.5;
};

std::string today() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&t));
  return buf;
}

/// The fitted values and the held-out error, for people.
std::string calibration_summary(const cal::CalibrationRun &run, const hw::GpuSpec &spec,
                                const cal::FitResult &f) {
  std::string s = fmt::format("fit against {} ({} measurements in the fit set, {} held out for "
                              "validation):\n",
                              spec.id, f.fitted, f.held);
  // Fractions of the GPU's memory bandwidth, named by its type (HBM3, GDDR6).
  const std::string mem = spec.memory_type.empty() ? std::string("memory") : spec.memory_type;
  if (f.hbm_bandwidth_Bps > 0)
    s += fmt::format("  memory {} ({} of spec), fixed {}; kernel overhead {}\n",
                     rep::bandwidth(BytesPerSecond(f.hbm_bandwidth_Bps)),
                     rep::percent(f.efficiency.hbm_bandwidth), rep::time(Seconds(f.stream_fixed_s)),
                     rep::time(Seconds(f.kernel_overhead_s)));
  else
    s += fmt::format("  memory bandwidth not fitted (defaults kept); kernel overhead {}\n",
                     rep::time(Seconds(f.kernel_overhead_s)));
  for (const auto &[dt, g] : f.gemm) {
    // A dtype with memory-bound GEMMs only has no compute fit: the table keeps the default.
    if (g.e_max > 0)
      s += fmt::format("  GEMM {}: {} of peak at large M, half at M = {:.0f}, {} ({} cases)\n", dt,
                       rep::percent(g.e_max), g.m_half,
                       g.tile_m > 0 ? fmt::format("waves of {:.0f}x{:.0f} tiles", g.tile_m, g.tile_n)
                                    : std::string("no wave quantization fitted"),
                       g.cases);
    else
      s += fmt::format("  GEMM {}: no compute-bound case fitted ({} cases): {} of peak, from the "
                       "defaults\n",
                       dt, g.cases,
                       rep::percent(f.efficiency.gemm_efficiency(dtype_from_string(dt), 0)));
    if (g.bandwidth > 0)
      s += fmt::format("  GEMM {} memory-bound: {} + bytes at {} of {} ({} cases)\n", dt,
                       rep::time(Seconds(g.overhead_s)), rep::percent(g.bandwidth), mem, g.memory_cases);
  }
  if (f.additive_attention) {
    s += fmt::format("  attention (additive): {} + {} per (sequence, KV head) + FLOP at {} of BF16 "
                     "peak + bytes at {} (decode) or {} (prefill) of {}\n",
                     rep::time(Seconds(f.attention_fixed_s)), fmt::format("{:.1f} ns", 1e9 * f.attention_item_s),
                     rep::percent(f.attention_flops), rep::percent(f.attention_bandwidth),
                     rep::percent(f.attention_prefill_bandwidth), mem);
    for (const auto &[dt, a] : f.attention_decode_by_kv_dtype)
      s += fmt::format("  attention decode over a {} KV cache: {} + {} per (sequence, KV head) + "
                       "bytes at {} of {}\n",
                       dt, rep::time(a.fixed), fmt::format("{:.1f} ns", 1e9 * a.item.value()),
                       rep::percent(a.bandwidth), mem);
  } else // a part with no case was not fitted: the table keeps its default, not 0% of the peak
    s += fmt::format("  attention: prefill {}; decode {}\n",
                     f.attention_flops > 0
                         ? rep::percent(f.attention_flops) + " of BF16 peak"
                         : "not measured (" + rep::percent(f.efficiency.attention_flops) +
                               " of BF16 peak, from the defaults)",
                     f.attention_bandwidth > 0
                         ? fmt::format("{} of {}, half at context {:.0f}",
                                       rep::percent(f.attention_bandwidth), mem,
                                       f.attention_context_half)
                         : std::string("not measured (from the defaults)"));
  for (const auto &n : f.notes) s += "  note: " + n + "\n";
  const auto errors = compare_measurements(run.measurements, spec, f.efficiency);
  s += held_out_table(errors);
  return s;
}

/// Does compute capability `sm` (e.g. 90) belong to architecture `a`? Unknown pairs (Rubin, whose
/// capability is not published) pass.
bool capability_matches(hw::Architecture a, int sm) {
  switch (a) {
  case hw::Architecture::volta: return sm / 10 == 7;
  case hw::Architecture::ampere: return sm == 80 || sm == 86 || sm == 87;
  case hw::Architecture::ada: return sm == 89;
  case hw::Architecture::hopper: return sm == 90;
  case hw::Architecture::blackwell: return sm == 100 || sm == 101 || sm == 120;
  case hw::Architecture::blackwell_ultra: return sm == 103;
  case hw::Architecture::rubin: return true;
  case hw::Architecture::cpu: return false;
  }
  return false;
}

/// The device must be the GPU `--gpu` names: its efficiencies are fractions of that spec sheet,
/// and the table is filed under it.
void check_device(const cal::DeviceInfo &d, const hw::GpuSpec &s, int index) {
  const std::string hint = "pass the --gpu this device is (rooftop hw list), or a rooftop.gpu/1 "
                           "file that describes it";
  if (!capability_matches(s.architecture, d.sm_version))
    throw InputError(fmt::format("--gpu {}: the catalogue's GPU is {}, but CUDA device {} ('{}') has "
                                 "compute capability {}.{}: {}",
                                 s.id, hw::to_string(s.architecture), index, d.name,
                                 d.sm_version / 10, d.sm_version % 10, hint));
  if (s.sm_count && *s.sm_count != d.sm_count)
    throw InputError(fmt::format("--gpu {}: the catalogue's GPU has {} SMs, but CUDA device {} ('{}') "
                                 "has {} (another SKU, or a MIG slice): {}",
                                 s.id, *s.sm_count, index, d.name, d.sm_count, hint));
}

/// The GPU a run is for: a catalogue id or a rooftop.gpu/1 file.
hw::GpuSpec resolve_gpu(const std::string &name) {
  if (std::filesystem::is_regular_file(name)) return hw::load_gpu(name);
  return hw::GpuCatalogue::builtin().get(name);
}

/// --max-stream-bytes within what the plan can use: at least its first stream (else no stream
/// is measured) and at most a third of the device's memory (a triad holds three arrays).
void check_max_stream(Bytes max, const CalibrateArgs &a, const cal::DeviceInfo &dev, double l2) {
  const double first = cal::first_stream_bytes(a.quick, l2);
  if (max.value() < first)
    throw InputError(fmt::format("--max-stream-bytes = '{}': below the plan's first stream array "
                                 "({:.0f} bytes): no stream would be measured",
                                 a.max_stream_bytes, first));
  if (dev.memory_bytes > 0 && max.value() > dev.memory_bytes / 3)
    throw InputError(fmt::format("--max-stream-bytes = '{}': more than a third of the {}'s "
                                 "{:.0f} bytes of memory (a triad holds three arrays)",
                                 a.max_stream_bytes, dev.name, dev.memory_bytes));
}

/// --refit FILE: fits a calibration file (a run of rooftop's own, or published measurements)
/// again, without a device, and writes its efficiency table.
void refit(const CalibrateArgs &a, const CLI::App &cmd) {
  for (const char *o : {"--backend", "--gpu", "--device", "--quick", "--check-only",
                        "--max-stream-bytes", "--max-seconds", "--out"})
    if (cmd.count(o) > 0)
      throw InputError(std::string("--refit fits a calibration file that exists: ") + o +
                       " (an option of a new run) does not apply");
  const auto run = cal::load_calibration(a.refit);
  // A table fitted to nothing would be the defaults labelled "measured".
  if (std::none_of(run.measurements.begin(), run.measurements.end(),
                   [](const cal::Measurement &m) { return !m.skipped && m.median_s > 0; }))
    throw InputError(a.refit + ": /measurements: no timed measurement to fit (" +
                     std::to_string(run.measurements.size()) + " entries, none timed)");
  hw::GpuSpec spec;
  try {
    spec = run.gpu == "host-cpu" ? cal::host_reference_spec(run.measurements, run.device)
                                 : resolve_gpu(run.gpu);
  } catch (const InputError &e) {
    throw InputError(a.refit + ": /gpu = \"" + run.gpu + "\": " + e.what());
  }
  const hw::Efficiency defaults =
      hw::load_default_efficiency(data_dir() / "hardware" / "efficiency.json", spec);
  const auto fitted = cal::fit(run.measurements, spec, defaults);
  const std::string eff_out = a.efficiency_out.empty()
                                  ? std::filesystem::path(a.refit).replace_extension("").string() +
                                        ".efficiency.json"
                                  : a.efficiency_out;
  {
    // Writing the table over the file it is fitted from would lose the measurements.
    std::error_code ec;
    if (std::filesystem::equivalent(a.refit, eff_out, ec))
      throw InputError("--efficiency-out " + eff_out + " is the calibration file --refit reads (" +
                       a.refit + "): it would be overwritten; name another file");
  }
  // The table names its calibration file as given, so a relative path stays relative.
  cal::write_json_file(eff_out, cal::efficiency_table_json(fitted, run, a.refit));
  std::cout << fmt::format("fitted {} ({} measurements) into {}\n", a.refit,
                           run.measurements.size(), eff_out);
  std::cout << calibration_summary(run, spec, fitted);
}

void run(const CalibrateArgs &a) {
  const bool cuda = a.backend == "cuda";
  if (!cuda && a.backend != "cpu") throw InputError("--backend must be cuda or cpu");
  if (cuda && a.gpu.empty())
    throw InputError("--gpu is required with --backend cuda: the catalogue GPU this device is "
                     "(e.g. h100-sxm), whose spec sheet the efficiencies are fractions of");
  if (!(a.max_seconds > 0)) throw InputError("--max-seconds must be > 0");
  const Bytes max_stream_arg = a.max_stream_bytes.empty()
                                  ? Bytes(0) // the default, below
                                  : parse_bytes(a.max_stream_bytes, "--max-stream-bytes");
  if (!cuda && !a.gpu.empty())
    throw InputError("--gpu names a GPU, but --backend cpu measures this host: omit --gpu (a CPU "
                     "run is fitted against its own best measured rates and filed as host-cpu)");
  if (!a.efficiency_out.empty()) {
    // The table written over the run it is fitted from would lose the measurements (checked
    // before anything runs; the default --out is calibration-<gpu>.json).
    const std::string out = !a.out.empty() ? a.out
                            : a.gpu.empty() ? std::string("calibration-host-cpu.json")
                                            : "calibration-" + resolve_gpu(a.gpu).id + ".json";
    std::error_code ec1, ec2;
    const auto o = std::filesystem::weakly_canonical(out, ec1);
    const auto e = std::filesystem::weakly_canonical(a.efficiency_out, ec2);
    if (!ec1 && !ec2 && o == e)
      throw InputError("--efficiency-out " + a.efficiency_out + " is the calibration file (--out " +
                       out + "): the table would overwrite the measurements; name another file");
  }
  std::unique_ptr<cal::Backend> backend = cuda ? cal::make_cuda_backend(a.device) : cal::make_cpu_backend();
  const auto dev = backend->device();
  const double l2 = dev.l2_bytes > 0 ? dev.l2_bytes : 50e6;
  if (max_stream_arg.value() > 0) check_max_stream(max_stream_arg, a, dev, l2);
  std::optional<hw::GpuSpec> spec;
  if (!a.gpu.empty()) {
    spec = resolve_gpu(a.gpu);
    if (cuda) check_device(dev, *spec, a.device);
  }
  const auto checks = backend->self_check();
  std::vector<std::string> failed;
  for (const auto &c : checks) {
    if (!c.skip_reason.empty()) {
      std::cerr << fmt::format("  self-check {:<34} skipped: {}\n", c.name, c.skip_reason);
      continue;
    }
    std::cerr << fmt::format("  self-check {:<34} error {:.2e} (tolerance {:.0e}) {}  [{}]\n", c.name,
                             c.max_rel_error, c.tolerance, c.passed() ? "ok" : "FAILED",
                             c.implementation);
    if (!c.passed()) failed.push_back(c.name);
  }
  std::string failed_names;
  for (const auto &n : failed) failed_names += (failed_names.empty() ? "" : ", ") + n;
  if (!failed.empty() && a.check_only)
    throw std::runtime_error(fmt::format(
        "the {} backend's kernels disagree with the host reference ({}): their timings would "
        "mean nothing",
        dev.backend, failed_names));
  if (failed.empty())
    std::cerr << fmt::format("{} self-checks passed on {}\n", checks.size(), dev.name);
  else // the other kernels are still timed: a GPU may be lent once
    std::cerr << fmt::format("warning: {} of {} self-checks FAILED on {} ({}): the cases that run "
                             "those kernels are not timed (\"failed\": true), the others are\n",
                             failed.size(), checks.size(), dev.name, failed_names);
  if (a.check_only) return;
  const double max_stream = max_stream_arg.value() > 0 ? max_stream_arg.value()
                            : cuda          ? std::min(8.0 * (1u << 30), dev.memory_bytes / 8)
                                            : 64e6;
  const bool fp8 = cuda ? dev.sm_version >= 89 : false;
  const auto plan = cal::default_plan(a.quick, fp8, l2, max_stream);
  cal::StopRule rule;
  rule.max_seconds = a.max_seconds;
  cal::CalibrationRun run;
  run.device = dev;
  run.self_checks = checks;
  run.rule = rule;
  // A rooftop.gpu/1 file is recorded by its absolute path, which validate and the efficiency
  // loader resolve; a catalogue GPU by its id. A CPU run is filed as host-cpu (its spec, the
  // best measured rates, exists only after the run).
  run.gpu = !a.gpu.empty() && std::filesystem::is_regular_file(a.gpu)
                ? std::filesystem::absolute(a.gpu).string()
                : spec ? spec->id : std::string("host-cpu");
  run.architecture = spec ? hw::to_string(spec->architecture) : std::string("cpu");
  std::string command;
  for (const auto &s : cli_argv()) command += (command.empty() ? "" : " ") + s;
  run.meta = {{"rooftop_version", rep::version()}, {"git_sha", rep::git_sha()},
              {"date", today()},                    {"command", command},
              {"elapsed_s", 0.0}};
  const std::string out =
      a.out.empty() ? "calibration-" + (spec ? spec->id : std::string("host-cpu")) + ".json" : a.out;
  // What has run so far, rewritten after every case and removed once `out` is written: a
  // crash or a kill (a device lent for a fixed time) keeps the cases before it.
  const std::string partial = out + ".partial", partial_tmp = partial + ".tmp";
  // A run killed mid-write leaves partial_tmp behind, maybe as nothing this run can open.
  std::error_code ignored;
  std::filesystem::remove(partial_tmp, ignored);
  cal::CalibrationRun so_far = run;
  bool partial_ok = true;
  std::cerr << fmt::format("calibrating {} ({} backend): {} cases (progress in {})\n", dev.name,
                           dev.backend, plan.cases.size(), partial);
  const auto start = std::chrono::steady_clock::now();
  const auto seconds_since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  run.measurements = cal::run_plan(
      *backend, plan, rule,
      [&](std::size_t i, std::size_t n, const cal::Measurement &m) {
        std::cerr << fmt::format("  [{}/{}] {:<40} {}\n", i + 1, n, m.c.id,
                                 m.skipped ? "skipped: " + m.skip_reason
                                           : rep::time(Seconds(m.median_s)) +
                                                 fmt::format(" (+-{:.1f}%, {} samples)",
                                                             100 * m.rel_stdev.value_or(0), m.samples_s.size()));
        if (!partial_ok) return;
        so_far.measurements.push_back(m);
        so_far.meta["elapsed_s"] = seconds_since_start();
        try { // written beside it, then renamed: a kill mid-write leaves the previous one
          cal::write_json_file(partial_tmp, cal::to_json(so_far));
          std::filesystem::rename(partial_tmp, partial);
        } catch (const std::exception &e) { // the run matters more than its progress file
          std::cerr << "warning: " << e.what() << "; no progress file\n";
          std::filesystem::remove(partial_tmp, ignored);
          partial_ok = false;
        }
      },
      checks);
  const double elapsed = seconds_since_start();
  if (!spec) spec = cal::host_reference_spec(run.measurements, dev);
  run.meta["elapsed_s"] = elapsed;
  cal::write_json_file(out, cal::to_json(run));
  std::filesystem::remove(partial, ignored);
  // Values the plan does not measure (links, collectives) keep the derated defaults.
  const hw::Efficiency defaults =
      hw::load_default_efficiency(data_dir() / "hardware" / "efficiency.json", *spec);
  const auto fitted = cal::fit(run.measurements, *spec, defaults);
  const std::string eff_out = a.efficiency_out.empty()
                                  ? std::filesystem::path(out).replace_extension("").string() +
                                        ".efficiency.json"
                                  : a.efficiency_out;
  cal::write_json_file(eff_out, cal::efficiency_table_json(fitted, run, out));
  std::cout << fmt::format("wrote {} ({} measurements, {:.0f} s) and {}\n", out,
                           run.measurements.size(), elapsed, eff_out);
  std::cout << calibration_summary(run, *spec, fitted);
  std::size_t failed_cases = 0;
  for (const auto &m : run.measurements) failed_cases += m.failed ? 1 : 0;
  // A device failure is the run's outcome, not a bug in rooftop: one error line, exit 1, and
  // the files above are kept.
  if (!failed.empty()) {
    std::cerr << fmt::format("error: self-checks failed ({}): {} of {} cases not timed or "
                             "failed (\"failed\": true in {}); the fit used the others\n",
                             failed_names, failed_cases, run.measurements.size(), out);
    exit_status() = 1;
  } else if (failed_cases > 0) {
    std::cerr << fmt::format("error: {} of {} cases failed on the device (\"failed\": true in "
                             "{}, with the error); the fit used the others\n",
                             failed_cases, run.measurements.size(), out);
    exit_status() = 1;
  }
}

} // namespace

void add_calibrate(CLI::App &app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto *c = app.add_subcommand("calibrate", "time real kernels and fit the model's efficiencies");
  c->add_option("--backend", a->backend, "cuda (a GPU) or cpu (the host, to check the pipeline)")
      ->capture_default_str();
  c->add_option("--gpu", a->gpu, "catalogue GPU id (or rooftop.gpu/1 file) this device is");
  c->add_option("--device", a->device, "CUDA device index")->capture_default_str();
  c->add_flag("--quick", a->quick, "a small plan (seconds), for checks");
  c->add_flag("--check-only", a->check_only,
              "only run the self-checks (each kernel against a host reference), time nothing");
  c->add_option("--max-stream-bytes", a->max_stream_bytes,
                "largest stream array: 4096, 256MiB, 2GiB (default: an eighth of the device's "
                "memory, at most 8 GiB; 64 MB on the CPU)");
  c->add_option("--max-seconds", a->max_seconds, "sampling time limit per case, s")
      ->capture_default_str();
  c->add_option("--out", a->out, "calibration file (default calibration-<gpu>.json)");
  c->add_option("--efficiency-out", a->efficiency_out,
                "fitted efficiency table (default <out>.efficiency.json)");
  c->add_option("--refit", a->refit,
                "fit this calibration file again (no device): a run of rooftop's own or "
                "published measurements (docs/calibration.md)");
  c->callback([a, c] {
    if (!a->refit.empty()) refit(*a, *c);
    else run(*a);
  });
}

} // namespace rooftop::cli
