// Device kernels the CUDA backend times (declarations; definitions in kernels.cu).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace rooftop::cal::cuda {

void launch_empty(cudaStream_t s);
void stream_read(const float4 *a, float *sink, std::size_t n4, cudaStream_t s);
void stream_write(float4 *a, std::size_t n4, cudaStream_t s);
void stream_copy(float4 *a, const float4 *b, std::size_t n4, cudaStream_t s);
void stream_triad(float4 *a, const float4 *b, const float4 *c, std::size_t n4, cudaStream_t s);

/// Attention of `queries` query rows per (batch, head) over bf16 K/V caches, online softmax,
/// the context split into chunks processed by separate warps and combined (flash-decoding).
/// q: [batch][q_heads][queries][dk]; k: [batch][kv_heads][ctx][dk]; v: same with dv;
/// o: [batch][q_heads][queries][dv]. Causal when `causal` (query i sees keys <= ctx - queries + i).
/// `partial` needs batch x q_heads x queries x splits x (dv + 2) floats.
struct AttentionArgs {
  const __nv_bfloat16 *q, *k, *v;
  __nv_bfloat16 *o;
  float *partial;
  int batch, q_heads, kv_heads, queries, ctx, dk, dv, splits;
  bool causal;
};
void attention(const AttentionArgs &a, cudaStream_t s);
/// Splits used for a context (keys per split ~256).
int attention_splits(int ctx);

void rmsnorm(const __nv_bfloat16 *x, __nv_bfloat16 *y, int rows, int cols, cudaStream_t s);
/// out[r][c] = silu(in[r][c]) * in[r][cols + c] for a [rows][2 cols] gate|up input.
void silu_mul(const __nv_bfloat16 *in, __nv_bfloat16 *out, int rows, int cols, cudaStream_t s);
/// Fills with small pseudo-random bf16 values (no NaN).
void fill_bf16(__nv_bfloat16 *p, std::size_t n, cudaStream_t s);

} // namespace rooftop::cal::cuda
