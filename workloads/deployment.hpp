// Deployment: how a model is run (the "mapping"): parallelism, data types, batch and lengths.
#pragma once

#include "core/dtype.hpp"
#include "workloads/model_spec.hpp"

namespace rooftop::wl {

/// One replica's mapping and workload. Batch and lengths are per replica.
struct Deployment {
  long long tp = 1;          ///< tensor-parallel degree (heads and MLP split)
  long long pp = 1;          ///< pipeline stages (layers split into contiguous stages)
  long long cp = 1;          ///< context-parallel degree (each sequence split over cp GPUs)
  long long ep = 1;          ///< expert-parallel degree: MoE layers spread their experts over ep
                             ///< GPUs, either the TP group (ep = tp) or TP x DP ("attention DP")
  long long dp = 1;          ///< independent replicas (attention data parallelism when ep > tp)
  double ep_imbalance = 0;   ///< busiest EP rank's tokens / mean; 0 = derived (see op_graph)
  bool overlap_comm = false; ///< collectives hidden behind compute (upper bound) or not
  DType weight_dtype = DType::bf16; ///< stored non-expert linear weights
  DType expert_dtype = DType::bf16; ///< stored routed-expert weights
  DType act_dtype = DType::bf16;    ///< GEMM input data type (sets the tensor-core rate)
  DType kv_dtype = DType::bf16;     ///< KV cache
  long long batch = 1;       ///< sequences decoded together per replica
  long long input_len = 1;   ///< prompt tokens per sequence
  long long output_len = 1;  ///< generated tokens per sequence (the first comes from prefill)

  /// GPUs of the whole deployment: tp x cp x pp x dp (EP regroups the same GPUs).
  [[nodiscard]] long long gpus() const { return tp * cp * pp * dp; } ///< validated <= 2^20
};

/// One replica's batch split exactly into pipeline micro-batches: min(pp, batch) of them (one
/// per stage keeps every stage busy, as vLLM's pipeline engines do; 1 without PP). The first
/// `larger` hold size + 1 sequences and the rest `size`, so they sum to the batch.
struct MicroBatches {
  long long count = 1;  ///< micro-batches
  long long size = 1;   ///< sequences in each of the smaller ones: floor(batch / count)
  long long larger = 0; ///< micro-batches holding size + 1 sequences: batch mod count
  /// Sequences in the largest micro-batch: ceil(batch / count).
  [[nodiscard]] long long largest() const { return size + (larger > 0 ? 1 : 0); }
  /// Sequences in micro-batch i (0-based; the larger ones first).
  [[nodiscard]] long long sequences(long long i) const { return size + (i < larger ? 1 : 0); }
};
MicroBatches split_microbatches(const Deployment &d);

/// Query and K/V heads one GPU holds under tensor parallelism.
struct HeadSplit {
  long long q_heads = 0;   ///< num_heads / tp
  long long kv_heads = 0;  ///< num_kv_heads / tp, or 1 when tp > num_kv_heads (replicated)
  bool kv_replicated = false; ///< K/V heads are copied on several GPUs
};
/// Throws InputError when tp does not divide the query heads, or when tp and the K/V heads do
/// not divide one another.
HeadSplit split_heads(const AttentionSpec &a, long long tp, const std::string &model_file);

/// Checks the mapping against the model: tp divides every layer's heads, etc. Throws InputError.
void validate_mapping(const ModelSpec &m, const Deployment &d);

} // namespace rooftop::wl
