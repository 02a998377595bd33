// Numeric data types of weights, activations and the KV cache, with their sizes in bits.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rooftop {

/// A numeric format. fp4 is NVIDIA's NVFP4 (blocks of 16 with an FP8 scale); mxfp4 is OCP MXFP4
/// (blocks of 32 with an E8M0 scale); int4 is weight-only (AWQ/GPTQ, groups of 128 with FP16
/// scale and zero point).
enum class DType { fp64, fp32, tf32, bf16, fp16, fp8, int8, fp4, mxfp4, int4 };
/// The number of DType values (for arrays indexed by one).
inline constexpr std::size_t k_dtype_count = 10;
static_assert(static_cast<std::size_t>(DType::int4) + 1 == k_dtype_count,
              "k_dtype_count counts every DType: int4 is the last");

/// Bits of one element, without block scales (CUTLASS's sizeof_bits).
int dtype_bits(DType t);
/// Bits per element stored in memory, block scales included:
/// fp4 = 4 + 8/16 = 4.5; mxfp4 = 4 + 8/32 = 4.25; int4 = 4 + (16+16)/128 = 4.25; others = bits.
double dtype_storage_bits(DType t);
/// Bytes per element stored in memory (storage bits / 8).
inline double dtype_storage_bytes(DType t) { return dtype_storage_bits(t) / 8.0; }

std::string to_string(DType t);
/// Parses "bf16", "fp8", ... ; also the Hugging Face torch_dtype names "bfloat16", "float16",
/// "float32". Throws InputError listing the valid names for anything else.
DType dtype_from_string(std::string_view s);
/// All names accepted by dtype_from_string (canonical names only).
std::vector<std::string> dtype_names();

} // namespace rooftop
