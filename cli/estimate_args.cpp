// Option registration and Deployment building shared by `estimate` and `report`.
#include "cli/estimate_args.hpp"

#include "cli/options.hpp"

#include "core/errors.hpp"
#include "core/json_io.hpp"
#include "hwmodels/system.hpp"
#include "workloads/model_catalogue.hpp"

#include <algorithm>
#include <stdexcept>

namespace rooftop::cli {
namespace {


wl::Deployment build_mapping(const EstimateArgs &a, const wl::ModelSpec &model) {
  wl::Deployment d;
  for (const auto &[name, v] :
       {std::pair{"--tp", a.tp}, {"--pp", a.pp}, {"--cp", a.cp}, {"--ep", a.ep}, {"--dp", a.dp},
        {"--gpus", a.gpus}, {"--nodes", a.nodes}}) {
    if (v > (1LL << 24))
      throw InputError(std::string(name) + " = " + std::to_string(v) +
                       ": beyond any real deployment (at most 2^24)");
  }
  for (const auto &[name, v] : {std::pair{"--tp", a.tp}, {"--pp", a.pp}, {"--cp", a.cp}, {"--ep", a.ep}})
    if (v < 1) throw InputError(std::string(name) + " = " + std::to_string(v) + ": must be >= 1");
  d.tp = a.tp;
  d.pp = a.pp;
  d.cp = a.cp;
  d.ep = a.ep;
  d.ep_imbalance = a.ep_imbalance;
  d.overlap_comm = a.overlap_comm;
  // Each is at most 2^24, so the product of two fits; bound it before the third multiplies in.
  if (a.tp * a.pp > (1LL << 24) / a.cp)
    throw InputError("--tp x --pp x --cp = " + std::to_string(a.tp) + " x " + std::to_string(a.pp) +
                     " x " + std::to_string(a.cp) + ": beyond any real deployment (at most 2^24 GPUs)");
  const long long replica = a.tp * a.pp * a.cp;
  const bool gpus_given = a.gpus_option != nullptr && a.gpus_option->count() > 0;
  if (a.dp_option && a.dp_option->count() > 0 && a.dp < 1)
    throw InputError("--dp = " + std::to_string(a.dp) + ": must be >= 1");
  const long long gpus = gpus_given ? a.gpus : replica * std::max(1LL, a.dp);
  if (gpus < 1) throw InputError("--gpus = " + std::to_string(gpus) + ": must be >= 1");
  if (gpus % replica != 0)
    throw InputError("impossible mapping: --gpus " + std::to_string(gpus) +
                     " is not a multiple of TP x PP x CP = " + std::to_string(replica) +
                     " (the GPUs beyond one replica form data-parallel replicas)");
  d.dp = gpus / replica;
  if (a.dp > 0 && a.dp != d.dp)
    throw InputError("impossible mapping: --dp " + std::to_string(a.dp) + " but --gpus " +
                     std::to_string(gpus) + " / (TP x PP x CP = " + std::to_string(replica) +
                     ") = " + std::to_string(d.dp) + " replicas");
  d.input_len = a.input_len;
  d.output_len = a.output_len;
  apply_dtype_options(d, model, a.weight_dtype, a.act_dtype, a.kv_dtype);
  return d;
}

long long parse_batch(const std::string &batch) {
  try {
    std::size_t pos = 0;
    const long long b = std::stoll(batch, &pos);
    if (pos != batch.size()) throw std::invalid_argument("trailing");
    return b;
  } catch (const std::exception &) {
    throw InputError("--batch = '" + batch + "': expected a positive integer or 'max'");
  }
}

} // namespace

DType parse_dtype_option(const std::string &option, const std::string &value) {
  try {
    return dtype_from_string(value);
  } catch (const InputError &e) {
    throw InputError(option + ": " + e.what());
  }
}

void apply_dtype_options(wl::Deployment &d, const wl::ModelSpec &m, const std::string &weight,
                         const std::string &act, const std::string &kv) {
  d.weight_dtype = m.weight_dtype;
  d.expert_dtype = m.expert_dtype;
  if (!weight.empty()) d.weight_dtype = d.expert_dtype = parse_dtype_option("--weight-dtype", weight);
  if (!act.empty()) d.act_dtype = parse_dtype_option("--act-dtype", act);
  if (!kv.empty()) d.kv_dtype = parse_dtype_option("--kv-dtype", kv);
}

void add_estimate_options(CLI::App &c, EstimateArgs &a) {
  c.add_option("--model", a.model, "preset id or path to a Hugging Face config.json")->required();
  c.add_option("--gpu", a.gpu, "GPU id (see `rooftop hw list`); or give --system");
  a.gpus_option = c.add_option("--gpus", a.gpus,
                               "GPUs in all (default: TP x PP x CP x --dp); beyond one replica they form DP replicas")
      ->check(exact_integer<long long>());
  c.add_option("--tp", a.tp, "tensor-parallel degree")->check(exact_integer<long long>())->capture_default_str();
  c.add_option("--pp", a.pp, "pipeline stages")->check(exact_integer<long long>())->capture_default_str();
  c.add_option("--cp", a.cp, "context-parallel degree (prompts split by sequence)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  a.dp_option =
      c.add_option("--dp", a.dp, "data-parallel replicas (default: --gpus / (TP x PP x CP), or 1)")
          ->check(exact_integer<long long>());
  c.add_option("--ep", a.ep,
               "expert-parallel degree for MoE layers: --tp, or --tp x DP replicas (attention DP)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--ep-imbalance", a.ep_imbalance,
               "busiest EP rank's tokens over the mean (default: derived for uniform routing)");
  c.add_flag("--overlap-comm", a.overlap_comm,
             "hide collectives behind compute (an upper bound on overlap; default: no overlap)");
  c.add_option("--system", a.system,
               "system id (see `rooftop system list`; default: the GPU's usual system)");
  a.nodes_option = c.add_option("--nodes", a.nodes,
                                "systems in the cluster (default: as many as the GPUs need)")
                       ->check(exact_integer<long long>());
  c.add_option("--oversubscription", a.oversubscription,
               "fat-tree spine oversubscription between nodes (1 = non-blocking)")
      ->capture_default_str();
  c.add_option("--weight-dtype", a.weight_dtype,
               "stored weights: bf16 fp16 fp8 int8 fp4 mxfp4 int4 (default: as the model ships)");
  c.add_option("--act-dtype", a.act_dtype,
               "GEMM input dtype (default: the weight dtype where the GPU has that tensor-core "
               "rate, else the model dtype)");
  c.add_option("--kv-dtype", a.kv_dtype, "KV-cache dtype (default: the model dtype)");
  c.add_option("--batch", a.batch, "sequences per replica, or 'max' for the largest that fits")
      ->capture_default_str();
  c.add_option("--input-len", a.input_len, "prompt tokens per sequence")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--output-len", a.output_len, "generated tokens per sequence")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--reserve-fraction", a.reserve_fraction,
               "fraction of GPU memory kept for the runtime, of the total nvidia-smi reports "
               "(the datasheet's where none is known), as vLLM's gpu_memory_utilization")
      ->capture_default_str();
  c.add_option("--decode-samples", a.decode_samples,
               "context points at which decode is evaluated")
      ->check(exact_integer<int>())
      ->capture_default_str();
  c.add_option("--max-prefill-tokens", a.max_prefill_tokens,
               "chunked prefill: tokens per prefill pass, bounding activation memory (0 = the "
               "whole batch at once)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--max-batch", a.max_batch,
               "with --batch max: at most this many sequences at once (the engine's "
               "max_num_seqs or max_batch_size; 0 = only memory limits it)")
      ->check(exact_integer<long long>())
      ->capture_default_str();
  c.add_option("--efficiency", a.efficiency_file,
               "a rooftop.efficiency/1 file to use instead of data/hardware/efficiency.json");
  c.add_flag("--ideal", a.ideal, "spec-sheet peaks, efficiency 1, no overheads");
  c.add_option("--calibration", a.calibration_file,
               "a calibrated efficiency table written by `rooftop calibrate` (measured on this "
               "GPU, or transferred from one of the same architecture)");
  c.add_option("--engine", a.engine,
               "the serving engine whose measured kernels the built-in efficiency table is "
               "fitted to: vllm (the default) or trtllm (TensorRT-LLM); a GPU without one gets "
               "its architecture's; with neither, vllm falls back to the derated defaults and "
               "another engine is refused")
      ->default_str("vllm");
  c.add_option("--allreduce", a.allreduce,
               "measured: an all-reduce inside one NVSwitch domain takes the efficiency table's "
               "measured engine all-reduce where it has one for the group size (vLLM's custom "
               "all-reduce on H100, H200, B200, A100: 2, 4, 8 GPUs; GB200: 2, 4; TensorRT-LLM's "
               "AllReduce with --engine trtllm); nccl: NCCL's model for every collective")
      ->capture_default_str();
}

const std::string &checked_engine(const std::string &engine) {
  const auto &known = hw::known_engines();
  if (std::find(known.begin(), known.end(), engine) == known.end()) {
    std::string list;
    for (const auto &k : known) list += (list.empty() ? "" : " or ") + k;
    throw InputError("--engine = \"" + engine + "\": expected " + list);
  }
  return engine;
}

EstimateSetup resolve_estimate_args(const EstimateArgs &a) {
  EstimateSetup s;
  if (a.gpu.empty() && a.system.empty()) throw InputError("give --gpu or --system");
  const hw::SystemSpec *sys = a.system.empty() ? nullptr : &hw::SystemCatalogue::builtin().get(a.system);
  if (sys && !a.gpu.empty() && a.gpu != sys->gpu)
    throw InputError("--gpu " + a.gpu + " but --system " + sys->id + " holds " + sys->gpu);
  s.gpu = &hw::GpuCatalogue::builtin().get(sys ? sys->gpu : a.gpu);
  s.model = wl::resolve_model(a.model);
  wl::Deployment &d = s.deployment;
  d = build_mapping(a, s.model);
  sim::resolve_dtypes(s.model, *s.gpu, d, !a.act_dtype.empty(), !a.kv_dtype.empty());
  if (static_cast<int>(a.ideal) + static_cast<int>(!a.efficiency_file.empty()) +
          static_cast<int>(!a.calibration_file.empty()) > 1)
    throw InputError("give at most one of --ideal, --efficiency and --calibration");
  if (!a.engine.empty()) (void)checked_engine(a.engine);
  if (!a.engine.empty() && (a.ideal || !a.efficiency_file.empty() || !a.calibration_file.empty()))
    throw InputError("--engine picks a built-in efficiency table: give it without --ideal, "
                     "--efficiency and --calibration");
  if (a.ideal) {
    s.efficiency = hw::Efficiency::ideal();
  } else if (!a.calibration_file.empty()) {
    const auto j = read_json_file(a.calibration_file);
    if (j.is_object() && j.contains("schema") && j["schema"] == "rooftop.calibration/1")
      throw InputError(a.calibration_file + ": /schema: this is a calibration run (its "
                       "measurements); give --calibration its fitted table, which `rooftop "
                       "calibrate` writes beside it as <name>.efficiency.json");
    s.efficiency = hw::load_default_efficiency(a.calibration_file, *s.gpu);
    if (s.efficiency.origin == hw::EfficiencyOrigin::spec)
      throw InputError(a.calibration_file + ": /origin: not a calibrated table (\"measured\"): "
                       "give it with --efficiency, or write one with `rooftop calibrate`");
  } else if (!a.efficiency_file.empty()) {
    s.efficiency = hw::load_default_efficiency(a.efficiency_file, *s.gpu);
  } else {
    s.efficiency = hw::engine_efficiency(*s.gpu, a.engine.empty() ? "vllm" : a.engine);
  }
  if (a.allreduce == "nccl")
    s.efficiency.allreduce.off = true;
  else if (a.allreduce != "measured")
    throw InputError("--allreduce = \"" + a.allreduce + "\": expected measured or nccl");
  if (!(a.reserve_fraction >= 0 && a.reserve_fraction < 1)) // also refuses NaN
    throw InputError("--reserve-fraction = " + std::to_string(a.reserve_fraction) +
                     ": must be in [0, 1)");
  s.options.reserve_fraction = a.reserve_fraction;
  s.options.decode_samples = a.decode_samples;
  if (a.max_batch < 0)
    throw InputError("--max-batch = " + std::to_string(a.max_batch) +
                     ": must be >= 0 (0 = only memory limits --batch max)");
  if (a.max_prefill_tokens < 0)
    throw InputError("--max-prefill-tokens = " + std::to_string(a.max_prefill_tokens) +
                     ": must be >= 0 (0 = the whole batch)");
  s.options.max_prefill_tokens = a.max_prefill_tokens;
  if (d.gpus() > (1LL << 24)) throw InputError("impossible mapping: more than 2^24 GPUs");
  // A GPU no system holds: one server of at most k_max_standalone_gpus, or, past that, servers
  // of as many whole replicas as fit in one (data-parallel replicas exchange nothing; no network
  // joins the servers, so a replica or an EP group must fit in one).
  const bool standalone = !sys && !hw::SystemCatalogue::builtin().holds(s.gpu->id);
  const long long replica = d.tp * d.pp * d.cp;
  const bool per_replica = standalone && d.gpus() > hw::k_max_standalone_gpus;
  if (per_replica && (replica > hw::k_max_standalone_gpus || d.ep > hw::k_max_standalone_gpus))
    throw InputError("impossible mapping: " +
                     (replica > hw::k_max_standalone_gpus
                          ? "a replica of TP x PP x CP = " + std::to_string(replica)
                          : "an EP group of --ep " + std::to_string(d.ep)) +
                     " GPUs (--tp, --pp, --cp, --ep), but " + hw::standalone_limit(*s.gpu) +
                     ", and no network joins its servers: only whole data-parallel replicas may be on "
                     "servers of their own");
  const long long server = per_replica ? hw::k_max_standalone_gpus / replica * replica : d.gpus();
  const hw::SystemSpec node = sys ? *sys : hw::cluster_for_gpu(*s.gpu, server, d.tp).system;
  if (!sys && a.nodes_option && a.nodes_option->count() > 0 && a.nodes > 1 && !per_replica &&
      node.id == s.gpu->id + "-standalone")
    throw InputError("--nodes " + std::to_string(a.nodes) + ": no system in data/hardware/systems "
                     "holds " + s.gpu->id + ", so rooftop has no network for it; one server only "
                     "(past 8 GPUs by --gpus or --dp, servers of whole data-parallel replicas)");
  const long long needed = (d.gpus() + node.gpus_per_node - 1) / node.gpus_per_node;
  s.cluster = hw::make_cluster(node, a.nodes_option && a.nodes_option->count() > 0 ? a.nodes : needed,
                               a.oversubscription);
  const bool gpus_given = a.gpus_option != nullptr && a.gpus_option->count() > 0;
  if (a.nodes_option && a.nodes_option->count() > 0 && s.cluster.gpus() != d.gpus()) {
    if (gpus_given || a.dp > 0)
      throw InputError("impossible mapping: TP x PP x CP x DP = " + std::to_string(d.gpus()) +
                       " GPUs, but --nodes " + std::to_string(a.nodes) + " x " + node.id + " has " +
                       std::to_string(s.cluster.gpus()));
    // Only --nodes: the cluster's GPUs are the deployment; the ones beyond a replica are DP.
    if (s.cluster.gpus() % (d.tp * d.pp * d.cp) != 0)
      throw InputError("impossible mapping: " + std::to_string(s.cluster.gpus()) + " GPUs of --nodes " +
                       std::to_string(a.nodes) + " x " + node.id + " are not a multiple of TP x PP x CP = " +
                       std::to_string(d.tp * d.pp * d.cp));
    d.dp = s.cluster.gpus() / (d.tp * d.pp * d.cp);
  }
  if (a.batch == "max") {
    d.batch = 1;
    wl::validate_mapping(s.model, d);
    d.batch = sim::estimate_memory(*s.gpu, s.model, d, s.options).max_batch;
    if (a.max_batch > 0) d.batch = std::min(d.batch, a.max_batch);
    if (d.batch < 1) d.batch = 1; // report the shortfall at batch 1
  } else {
    if (a.max_batch != 0)
      throw InputError("--max-batch " + std::to_string(a.max_batch) +
                       " caps --batch max; with --batch " + a.batch + " give no --max-batch");
    d.batch = parse_batch(a.batch);
  }
  return s;
}

} // namespace rooftop::cli
