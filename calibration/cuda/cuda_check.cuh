// Error checks for the CUDA backend: every CUDA/cuBLASLt call is checked, failures throw
// rooftop::CudaError naming the call.
#pragma once

#include "core/errors.hpp"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <string>

namespace rooftop {

/// A CUDA runtime or cuBLASLt call failed.
class CudaError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Throws on failure. The runtime also keeps a failed call's error as its "last error" (that
/// cudaGetLastError returns); it is cleared here, or the next case's launch check would report
/// this one's (a failed cudaMalloc would fail the case after it). A sticky error (a kernel
/// fault) cannot be cleared and fails every later call, as it should.
inline void cuda_check(cudaError_t e, const char *what) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();
  throw CudaError(std::string(what) + ": " + cudaGetErrorString(e));
}
inline void cublas_check(cublasStatus_t s, const char *what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw CudaError(std::string(what) + ": " + cublasLtGetStatusName(s) + " (cuBLAS status " +
                    std::to_string(static_cast<int>(s)) + ")");
}

} // namespace rooftop

#define ROOFTOP_CUDA(call) ::rooftop::cuda_check((call), #call)
#define ROOFTOP_CUBLAS(call) ::rooftop::cublas_check((call), #call)
