// Strong unit types: meaningful operators exist, meaningless ones do not compile.
#include "core/dtype.hpp"
#include "core/errors.hpp"
#include "core/units.hpp"

#include <doctest/doctest.h>

#include <type_traits>

using namespace rooftop;

namespace {
template <class A, class B, class = void> struct can_add : std::false_type {};
template <class A, class B>
struct can_add<A, B, std::void_t<decltype(std::declval<A>() + std::declval<B>())>> : std::true_type {};
template <class A, class B, class = void> struct can_divide : std::false_type {};
template <class A, class B>
struct can_divide<A, B, std::void_t<decltype(std::declval<A>() / std::declval<B>())>>
    : std::true_type {};
} // namespace

static_assert(!can_add<Bytes, Seconds>::value, "Bytes + Seconds must not compile");
static_assert(!can_add<Flops, Bytes>::value, "Flops + Bytes must not compile");
static_assert(can_add<Bytes, Bytes>::value);
static_assert(!can_divide<Bytes, FlopsPerSecond>::value, "Bytes / FLOP/s must not compile");
static_assert(std::is_same_v<decltype(Bytes(1) / BytesPerSecond(1)), Seconds>);
static_assert(std::is_same_v<decltype(Flops(1) / FlopsPerSecond(1)), Seconds>);
static_assert(std::is_same_v<decltype(Flops(1) / Bytes(1)), double>);
static_assert(!std::is_convertible_v<double, Bytes>, "construction from double is explicit");

TEST_CASE("time is bytes over bandwidth and FLOP over FLOP/s") {
  // 60e9 B / 3.35e12 B/s = 0.0179104... s
  CHECK((Bytes(60e9) / BytesPerSecond(3.35e12)).value() == doctest::Approx(60e9 / 3.35e12));
  // 2 * 64^3 = 524288 FLOP / 1e12 FLOP/s = 5.24288e-7 s
  CHECK((Flops(524288) / FlopsPerSecond(1e12)).value() == doctest::Approx(5.24288e-7).epsilon(1e-12));
  CHECK(Flops(100) / Bytes(50) == doctest::Approx(2.0));
  CHECK(max(Seconds(1), Seconds(2)).value() == 2.0);
}

TEST_CASE("GB is 1e9 bytes and GiB is 2^30 bytes") {
  CHECK(gb(80).value() == 80e9);
  CHECK(gib(1).value() == 1073741824.0);
}

TEST_CASE("data-type sizes are in bits, with block scales in storage") {
  CHECK(dtype_bits(DType::bf16) == 16);
  CHECK(dtype_bits(DType::fp8) == 8);
  CHECK(dtype_bits(DType::fp4) == 4);
  CHECK(dtype_storage_bits(DType::fp4) == 4.5);   // 4 + 8-bit scale / 16 elements
  CHECK(dtype_storage_bits(DType::mxfp4) == 4.25); // 4 + 8-bit scale / 32 elements
  CHECK(dtype_storage_bytes(DType::bf16) == 2.0);
  CHECK(dtype_from_string("bfloat16") == DType::bf16);
  CHECK(to_string(dtype_from_string("int4")) == "int4");
  CHECK_THROWS_WITH_AS(dtype_from_string("fp7"), doctest::Contains("fp8"), InputError);
}
