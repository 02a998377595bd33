// Lowering a model to operators for one forward pass on one GPU: FLOPs and bytes per operator.
#pragma once

#include "core/dtype.hpp"
#include "core/units.hpp"
#include "workloads/deployment.hpp"
#include "workloads/model_spec.hpp"

#include <string>
#include <vector>

namespace rooftop::wl {

enum class Phase { prefill, decode };
std::string to_string(Phase p);

/// What kind of operator (used to group the time breakdown).
enum class OpKind {
  embedding, norm, qkv_proj, attention, o_proj, router, mlp, activation, moe_experts,
  shared_experts, lm_head, all_reduce, all_gather, all_to_all, send_recv
};
std::string to_string(OpKind k);

/// Which roof limits an operator: tensor cores (GEMM or attention), CUDA cores, or the network.
enum class Unit { gemm, attention, vector, network };
std::string to_string(Unit u);

/// The collective a network operator performs, and over which group of the mapping.
enum class Collective { all_reduce, all_gather, all_to_all, send_recv };
enum class CommGroup { tp, cp, ep, pp };
std::string to_string(Collective c);
std::string to_string(CommGroup g);

/// One operator of one pass on one GPU; `count` instances run per pass (one per layer).
struct Op {
  const char *name = "";      ///< e.g. "qkv_proj"
  OpKind kind = OpKind::norm;
  Unit unit = Unit::vector;
  int group = -1;             ///< layer group index, -1 outside the layers
  long long count = 1;        ///< instances per pass
  DType compute_dtype = DType::bf16; ///< tensor-core input type (gemm/attention)
  DType kv_dtype = DType::bf16;      ///< attention: the KV cache's type
  Flops flops;                ///< per instance
  Bytes weight_bytes;         ///< weights read per instance
  Bytes act_bytes;            ///< activations read and written per instance
  Bytes kv_bytes;             ///< KV cache read and written per instance
  Bytes stored_weight_bytes;  ///< weights this operator keeps in memory per instance
  Bytes comm_bytes;           ///< nccl-tests size of the collective (unit == network): the
                              ///< buffer (all-reduce), whole output (all-gather) or one rank's
                              ///< send buffer (all-to-all)
  Collective collective = Collective::all_reduce; ///< unit == network
  CommGroup comm_group = CommGroup::tp;           ///< unit == network
  int kernels = 1;            ///< kernel launches per instance
  double rows = 0;            ///< GEMMs: rows of the input (M: tokens per weight matrix)
  double cols = 0;            ///< GEMMs: columns of the output (N, after sharding)
  double groups = 1;          ///< GEMMs: problems of rows x cols in one grouped launch (MoE:
                              ///< the experts with tokens, an expected count)
  /// MoE experts, whose one op is two grouped GEMMs: the second's (down projection) N and its
  /// share of the op's FLOPs; 0 for an op of one GEMM shape.
  double second_cols = 0;
  double second_share = 0;
  double context = 0;         ///< attention: mean keys each query attends
  double new_tokens = 0;      ///< attention: new tokens per sequence (1: a decode step)
  double items = 0;           ///< attention: (sequence, KV head) pairs on this GPU

  /// HBM traffic per instance: weights + activations + KV cache, bytes.
  [[nodiscard]] Bytes bytes() const { return weight_bytes + act_bytes + kv_bytes; }
};

/// The shape of one pass: `batch` sequences each adding `new_tokens` after `past_tokens` cached.
struct PassShape {
  long long batch = 1;
  long long new_tokens = 1;  ///< prefill: the prompt; decode: 1
  long long past_tokens = 0; ///< tokens already in the KV cache
};

/// Keys attended by the new tokens of one sequence, summed over the new tokens:
/// sum_{i=0}^{S-1} min(P + i + 1, w)  (w = infinity without a window).
double attended_keys(long long past, long long new_tokens, std::optional<long long> window);

/// Expected number of distinct experts that `tokens` tokens touch when each picks k of E
/// uniformly: E * (1 - (1 - k/E)^tokens).
double expected_touched_experts(long long experts, long long k, double tokens);

/// The layers one pipeline stage holds: how many of each layer group, and whether it holds the
/// embedding (first stage) and the final norm and LM head (last stage).
struct StageSlice {
  std::vector<long long> group_counts; ///< per layer group of the model
  bool embedding = true;
  bool head = true;
};
/// Splits the layers into `pp` contiguous stages of (as near as possible) equal layer counts.
std::vector<StageSlice> split_stages(const ModelSpec &m, long long pp);

/// Expected busiest-rank load over the mean when `assignments` token-to-expert picks spread
/// uniformly over `ranks` ranks: 1 + sqrt(2 ln(ranks) (ranks - 1) / assignments) (the Gaussian
/// approximation of the maximum of `ranks` binomial loads), at most `cap`.
double expected_ep_imbalance(long long ranks, double assignments, double cap);
/// The largest possible busiest-rank load over the mean: ep x min(k, E/ep) / k (a token's k picks
/// are distinct experts, at most E/ep of them on one rank).
double max_ep_imbalance(long long ranks, const FfnSpec &f);

/// Lowers one pass on one GPU of the mapping, for the layers of `stage` (default: all). Each
/// distinct layer type is lowered once (its operators carry count = number of such layers).
/// With cp > 1 the pass's new tokens are split over the CP group (prefill) or its cached
/// tokens are (decode); with ep > 1 MoE layers dispatch tokens to experts by all-to-all.
std::vector<Op> lower_pass(const ModelSpec &m, const Deployment &d, Phase phase,
                           const PassShape &shape, const StageSlice *stage = nullptr);

/// KV-cache bytes one token adds on one GPU, all layers (K/V heads split or replicated by TP).
Bytes kv_bytes_per_token_per_gpu(const ModelSpec &m, const Deployment &d);
/// KV cache on one GPU for `batch` sequences of `tokens` tokens (sliding layers keep <= window),
/// for the layers of `stage` (default: all), sharded over the CP group.
Bytes kv_cache_bytes_per_gpu(const ModelSpec &m, const Deployment &d, long long batch,
                             long long tokens, const StageSlice *stage = nullptr);

} // namespace rooftop::wl
