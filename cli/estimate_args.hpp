// The model, hardware and mapping options shared by `rooftop estimate` and `rooftop report`.
#pragma once

#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "sim/estimate.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace rooftop::cli {

/// The options as given on the command line (before resolution).
struct EstimateArgs {
  std::string model, gpu, weight_dtype, kv_dtype, act_dtype, batch = "1", efficiency_file,
      calibration_file;
  long long gpus = 0, tp = 1, pp = 1, cp = 1, ep = 1, dp = 0, nodes = 0, input_len = 1024,
            output_len = 256;
  std::string system;             ///< system id (default: the GPU's usual system)
  double oversubscription = 1.0;  ///< fat-tree spine oversubscription
  double ep_imbalance = 0;        ///< 0 = derived
  bool overlap_comm = false;
  double reserve_fraction = 0.10; ///< fraction of GPU memory kept for the runtime
  int decode_samples = 16;
  long long max_prefill_tokens = 0; ///< chunked prefill for activation memory (0 = whole batch)
  long long max_batch = 0;          ///< with --batch max: at most this many sequences (0 = no cap)
  bool ideal = false;
  std::string engine; ///< the built-in table's serving engine (hw::known_engines(); "" = vllm)
  std::string allreduce = "measured"; ///< "measured": the table's measured all-reduce; "nccl"
  const CLI::Option *gpus_option = nullptr; ///< set by add_estimate_options; tells if --gpus given
  const CLI::Option *nodes_option = nullptr; ///< likewise for --nodes
  const CLI::Option *dp_option = nullptr;    ///< likewise for --dp
};

/// Everything sim::estimate needs, resolved from EstimateArgs.
struct EstimateSetup {
  wl::ModelSpec model;
  const hw::GpuSpec *gpu = nullptr; ///< owned by the builtin catalogue
  wl::Deployment deployment;
  hw::Efficiency efficiency;
  sim::EstimateOptions options;
  hw::Cluster cluster;              ///< the GPUs' system x nodes
};

/// `value` as a data type; an unknown one is an InputError naming `option` and the known types.
DType parse_dtype_option(const std::string &option, const std::string &value);

/// The stored types as the model ships them, overridden by --weight-dtype (weights and experts),
/// --act-dtype and --kv-dtype where given (non-empty); the rest is left to sim::resolve_dtypes.
void apply_dtype_options(wl::Deployment &d, const wl::ModelSpec &m, const std::string &weight,
                         const std::string &act, const std::string &kv);

/// Registers --model --gpu --gpus --tp --weight-dtype --act-dtype --kv-dtype --batch --input-len
/// --output-len --reserve-fraction --decode-samples --efficiency --ideal on `c`, bound to `a`
/// (which must outlive parsing).
void add_estimate_options(CLI::App &c, EstimateArgs &a);

/// Loads the model, GPU and efficiencies and builds the Deployment (resolving `--batch max`).
/// Throws InputError for bad options.
EstimateSetup resolve_estimate_args(const EstimateArgs &a);

/// `--engine`'s value, checked: one of hw::known_engines(), else an InputError naming the option.
const std::string &checked_engine(const std::string &engine);

} // namespace rooftop::cli
