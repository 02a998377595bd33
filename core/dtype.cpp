// Data-type names and sizes.
#include "core/dtype.hpp"

#include "core/errors.hpp"

#include <array>
#include <utility>

namespace rooftop {
namespace {

constexpr std::array<std::pair<DType, const char *>, k_dtype_count> k_names{{
    {DType::fp64, "fp64"},
    {DType::fp32, "fp32"},
    {DType::tf32, "tf32"},
    {DType::bf16, "bf16"},
    {DType::fp16, "fp16"},
    {DType::fp8, "fp8"},
    {DType::int8, "int8"},
    {DType::fp4, "fp4"},
    {DType::mxfp4, "mxfp4"},
    {DType::int4, "int4"},
}};

} // namespace

int dtype_bits(DType t) {
  switch (t) {
  case DType::fp64: return 64;
  case DType::fp32: return 32;
  case DType::tf32: return 32; // stored as fp32
  case DType::bf16:
  case DType::fp16: return 16;
  case DType::fp8:
  case DType::int8: return 8;
  case DType::fp4:
  case DType::mxfp4:
  case DType::int4: return 4;
  }
  throw InternalError("dtype_bits: unknown DType");
}

double dtype_storage_bits(DType t) {
  switch (t) {
  case DType::fp4: return 4.0 + 8.0 / 16.0;            // NVFP4: E4M3 scale per 16 elements
  case DType::mxfp4: return 4.0 + 8.0 / 32.0;          // MXFP4: E8M0 scale per 32 elements
  case DType::int4: return 4.0 + (16.0 + 16.0) / 128.0; // FP16 scale + zero per group of 128
  default: return static_cast<double>(dtype_bits(t));
  }
}

std::string to_string(DType t) {
  for (const auto &[d, n] : k_names)
    if (d == t) return n;
  throw InternalError("to_string: unknown DType");
}

constexpr bool names_in_enum_order() {
  for (std::size_t i = 0; i < k_names.size(); ++i)
    if (k_names[i].first != static_cast<DType>(i) || k_names[i].second == nullptr) return false;
  return true;
}
static_assert(names_in_enum_order(), "k_names lists every DType once, in enum order");

std::vector<std::string> dtype_names() {
  std::vector<std::string> out;
  for (const auto &p : k_names) out.emplace_back(p.second);
  return out;
}

DType dtype_from_string(std::string_view s) {
  for (const auto &[d, n] : k_names)
    if (s == n) return d;
  if (s == "bfloat16") return DType::bf16;
  if (s == "float16" || s == "half") return DType::fp16;
  if (s == "float32" || s == "float") return DType::fp32;
  std::string valid;
  for (const auto &n : dtype_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw InputError("unknown data type '" + std::string(s) + "': expected one of " + valid);
}

} // namespace rooftop
