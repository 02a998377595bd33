// Deployment: how a model is run (the "mapping"): parallelism, data types, batch and lengths.
#pragma once

#include "core/dtype.hpp"
#include "workloads/model_spec.hpp"

namespace rooftop::wl {

/// One replica's mapping and workload. Batch and lengths are per replica.
struct Deployment {
  long long tp = 1;          ///< tensor-parallel degree (heads and MLP split)
  long long pp = 1;          ///< pipeline stages (later issue; must be 1 for now)
  long long ep = 1;          ///< expert-parallel degree (later issue; must be 1 for now)
  long long dp = 1;          ///< independent replicas
  DType weight_dtype = DType::bf16; ///< stored non-expert linear weights
  DType expert_dtype = DType::bf16; ///< stored routed-expert weights
  DType act_dtype = DType::bf16;    ///< GEMM input data type (sets the tensor-core rate)
  DType kv_dtype = DType::bf16;     ///< KV cache
  long long batch = 1;       ///< sequences decoded together per replica
  long long input_len = 1;   ///< prompt tokens per sequence
  long long output_len = 1;  ///< generated tokens per sequence (the first comes from prefill)

  [[nodiscard]] long long gpus() const { return tp * pp * ep * dp; } ///< validated <= 2^20
};

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
