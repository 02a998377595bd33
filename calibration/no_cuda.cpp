// Built when no CUDA toolkit was found: the CUDA backend is absent and says so (Ginkgo's stub).
#include "calibration/backend.hpp"
#include "core/errors.hpp"

namespace rooftop::cal {

bool cuda_compiled() { return false; }

std::unique_ptr<Backend> make_cuda_backend(int /*index*/) {
  throw NotCompiled("built without CUDA (ROOFTOP_ENABLE_CUDA=OFF): rebuild where a CUDA toolkit "
                    "is installed, or use --backend cpu");
}

} // namespace rooftop::cal
