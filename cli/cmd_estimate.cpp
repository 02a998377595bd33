// `rooftop estimate`: memory, TTFT, TPOT and throughput of one deployment.
#include "cli/commands.hpp"
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "reports/estimate_report.hpp"
#include "sim/estimate.hpp"
#include "workloads/model_catalogue.hpp"

#include <iostream>
#include <memory>

namespace rooftop::cli {
namespace {

struct EstimateArgs {
  std::string model, gpu, weight_dtype, kv_dtype, act_dtype, batch = "1", efficiency_file;
  long long gpus = 0, tp = 1, input_len = 1024, output_len = 256;
  double reserve_fraction = 0.10;
  int decode_samples = 16;
  bool json = false, ideal = false, gpus_given = false;
};

DType parse_dtype(const std::string &option, const std::string &value) {
  try {
    return dtype_from_string(value);
  } catch (const InputError &e) {
    throw InputError(option + ": " + e.what());
  }
}

void run(const EstimateArgs &a) {
  const auto &gpu = hw::GpuCatalogue::builtin().get(a.gpu);
  const auto model = wl::resolve_model(a.model);
  wl::Deployment d;
  d.tp = a.tp;
  if (a.tp < 1) throw InputError("--tp = " + std::to_string(a.tp) + ": must be >= 1");
  const long long gpus = a.gpus_given ? a.gpus : a.tp;
  if (gpus < 1) throw InputError("--gpus = " + std::to_string(gpus) + ": must be >= 1");
  if (gpus % a.tp != 0)
    throw InputError("impossible mapping: --gpus " + std::to_string(gpus) +
                     " is not a multiple of --tp " + std::to_string(a.tp) +
                     " (the GPUs beyond one TP group form data-parallel replicas)");
  d.dp = gpus / a.tp;
  d.input_len = a.input_len;
  d.output_len = a.output_len;
  d.weight_dtype = model.weight_dtype;
  d.expert_dtype = model.expert_dtype;
  if (!a.weight_dtype.empty()) d.weight_dtype = d.expert_dtype = parse_dtype("--weight-dtype", a.weight_dtype);
  if (!a.act_dtype.empty()) d.act_dtype = parse_dtype("--act-dtype", a.act_dtype);
  if (!a.kv_dtype.empty()) d.kv_dtype = parse_dtype("--kv-dtype", a.kv_dtype);
  sim::resolve_dtypes(model, gpu, d, !a.act_dtype.empty(), !a.kv_dtype.empty());
  const hw::Efficiency eff = a.ideal ? hw::Efficiency::ideal()
                             : a.efficiency_file.empty()
                                 ? hw::builtin_efficiency(gpu)
                                 : hw::load_default_efficiency(a.efficiency_file, gpu);
  if (!(a.reserve_fraction >= 0 && a.reserve_fraction < 1)) // also refuses NaN
    throw InputError("--reserve-fraction = " + std::to_string(a.reserve_fraction) +
                     ": must be in [0, 1)");
  sim::EstimateOptions o;
  o.reserve_fraction = a.reserve_fraction;
  o.decode_samples = a.decode_samples;
  if (a.batch == "max") {
    d.batch = 1;
    wl::validate_mapping(model, d);
    d.batch = sim::estimate_memory(gpu, model, d, o).max_batch;
    if (d.batch < 1) {
      d.batch = 1; // report the shortfall at batch 1
    }
  } else {
    try {
      std::size_t pos = 0;
      d.batch = std::stoll(a.batch, &pos);
      if (pos != a.batch.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception &) {
      throw InputError("--batch = '" + a.batch + "': expected a positive integer or 'max'");
    }
  }
  const auto e = sim::estimate(gpu, model, d, eff, o);
  const rep::EstimateInputs in{model, gpu, d, eff};
  if (a.json) std::cout << rep::estimate_json(in, e).dump(2) << "\n";
  else std::cout << rep::estimate_text(in, e);
  if (e.feasibility == sim::Feasibility::out_of_memory) {
    std::cerr << "error: " << rep::out_of_memory_message(in, e) << "\n";
    exit_status() = 2;
  }
}

} // namespace

void add_estimate(CLI::App &app) {
  auto a = std::make_shared<EstimateArgs>();
  auto *c = app.add_subcommand("estimate", "memory, TTFT, TPOT and throughput of one deployment");
  c->add_option("--model", a->model, "preset id or path to a Hugging Face config.json")->required();
  c->add_option("--gpu", a->gpu, "GPU id (see `rooftop hw list`)")->required();
  auto *gpus = c->add_option("--gpus", a->gpus,
                              "GPUs in all (default: --tp); more than --tp form DP replicas");
  c->add_option("--tp", a->tp, "tensor-parallel degree")->capture_default_str();
  c->add_option("--weight-dtype", a->weight_dtype,
                "stored weights: bf16 fp16 fp8 int8 fp4 mxfp4 int4 (default: as the model ships)");
  c->add_option("--act-dtype", a->act_dtype,
                "GEMM input dtype (default: the weight dtype where the GPU has that tensor-core "
                "rate, else the model dtype)");
  c->add_option("--kv-dtype", a->kv_dtype, "KV-cache dtype (default: the model dtype)");
  c->add_option("--batch", a->batch, "sequences per replica, or 'max' for the largest that fits")
      ->capture_default_str();
  c->add_option("--input-len", a->input_len, "prompt tokens per sequence")->capture_default_str();
  c->add_option("--output-len", a->output_len, "generated tokens per sequence")->capture_default_str();
  c->add_option("--reserve-fraction", a->reserve_fraction,
                "fraction of GPU memory kept for the runtime")->capture_default_str();
  c->add_option("--decode-samples", a->decode_samples,
                "context points at which decode is evaluated")->capture_default_str();
  c->add_option("--efficiency", a->efficiency_file, "a rooftop.efficiency/1 file to use instead "
                                                    "of data/hardware/efficiency.json");
  c->add_flag("--ideal", a->ideal, "spec-sheet peaks, efficiency 1, no overheads");
  c->add_flag("--json", a->json, "print the rooftop.estimate/1 JSON object");
  c->callback([a, gpus] {
    a->gpus_given = gpus->count() > 0;
    run(*a);
  });
}

} // namespace rooftop::cli
