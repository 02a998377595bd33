// Exceptions rooftop throws. cli/main.cpp alone maps them to exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace rooftop {

/// Bad user data: a file, field or option that is malformed, missing or out of range.
class InputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The model cannot represent the request (an architecture or feature rooftop does not model).
class NotSupported : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A capability whose backend was not built (e.g. CUDA calibration without a CUDA toolkit).
class NotCompiled : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// A bug in rooftop: an internal invariant did not hold.
class InternalError : public std::logic_error {
public:
  using std::logic_error::logic_error;
};

} // namespace rooftop
