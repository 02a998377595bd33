// Group placement: how groups of ranks split over scale-up domains, even and uneven.
#include "core/errors.hpp"
#include "hwmodels/system.hpp"
#include "sim/placement.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

using namespace rooftop;
using sim::GroupLayout;

namespace {
/// `nodes` nodes of one `domain`-GPU scale-up domain each (only the geometry matters here).
hw::Cluster cluster(long long domain, long long nodes) {
  hw::SystemSpec s;
  s.id = "synthetic";
  s.gpus_per_node = s.domain_gpus = domain;
  return hw::make_cluster(s, nodes);
}

/// The split of the one group {first + k stride : k < size}, counted rank by rank.
sim::Placement counted(long long first, long long size, long long stride, long long domain) {
  std::map<long long, long long> per;
  for (long long k = 0; k < size; ++k) ++per[(first + k * stride) / domain];
  long long most = 0, fewest = size;
  for (const auto &[d, n] : per) {
    most = std::max(most, n);
    fewest = std::min(fewest, n);
  }
  return {size, most, fewest, static_cast<long long>(per.size())};
}

void check_same(const sim::Placement &a, const sim::Placement &b) {
  CHECK(a.size == b.size);
  CHECK(a.per_domain == b.per_domain);
  CHECK(a.fewest_per_domain == b.fewest_per_domain);
  CHECK(a.domains() == b.domains());
}
} // namespace

TEST_CASE("even groups: one domain, or whole domains") {
  const auto c = cluster(8, 4);
  check_same(sim::place(c, {4}), sim::Placement{4, 4});
  check_same(sim::place(c, {16}), sim::Placement{16, 8});  // 8 + 8
  check_same(sim::place(c, {8, 1, 0, 32}), sim::Placement{8, 8}); // 4 TP groups, all aligned
  CHECK(sim::place(c, {16}).even());
  check_same(sim::place(c, {1}), sim::Placement{});
}

TEST_CASE("an uneven group is split as it falls, not rounded to an even split") {
  const auto c = cluster(8, 4);
  // 12 ranks from rank 0: 8 in domain 0, 4 in domain 1
  const auto p = sim::place(c, {12});
  CHECK(p.per_domain == 8);
  CHECK(p.fewest_per_domain == 4);
  CHECK(p.domains() == 2);
  CHECK_FALSE(p.even());
  // 20 ranks: 8 + 8 + 4; 12 ranks from rank 4: 4 + 8
  check_same(sim::place(c, {20}), sim::Placement{20, 8, 4, 3});
  check_same(sim::place(c, {12, 1, 4}), sim::Placement{12, 8, 4, 2});
  // TP 12 groups over a replica of 24: both split 8 + 4 (one as 4 + 8)
  check_same(sim::place(c, {12, 1, 0, 24}), sim::Placement{12, 8, 4, 2});
}

TEST_CASE("strided groups: the worst of them decides") {
  const auto c = cluster(4, 3);
  // CP 3 with TP 3 on 4-GPU domains: groups {0,3,6} = 2 + 1, {1,4,7} = 1 + 2, {2,5,8} = 1+1+1
  check_same(sim::place(c, {3, 3, 0, 9}), sim::Placement{3, 1, 1, 3});
  // A pipeline hand-off of TP 2 from stage 1 (ranks 2,3) to stage 2 (ranks 4,5): crosses
  check_same(sim::place(c, {2, 2, 2}), sim::Placement{2, 1, 1, 2});
  // ...and from stage 0 to stage 1 (ranks 0,1 -> 2,3) stays inside domain 0
  check_same(sim::place(c, {2, 2, 0}), sim::Placement{2, 2});
}

TEST_CASE("every single-group split agrees with a rank-by-rank count") {
  for (long long domain : {1, 3, 4, 8, 72})
    for (long long stride : {1, 2, 3, 8})
      for (long long first = 0; first < 10; ++first)
        for (long long size = 1; size <= 20; ++size) {
          CAPTURE(domain);
          CAPTURE(stride);
          CAPTURE(first);
          CAPTURE(size);
          // one block holds `stride` interleaved groups: the worst counted one
          sim::Placement worst = counted(first, size, stride, domain);
          for (long long j = 1; j < stride; ++j) {
            const auto p = counted(first + j, size, stride, domain);
            if (!sim::worse_or_same(worst, p)) worst = p;
          }
          const auto c = cluster(domain, (first + size * stride) / domain + 1);
          check_same(sim::place(c, {size, stride, first}), size == 1 ? sim::Placement{} : worst);
        }
}

TEST_CASE("groups beyond the cluster are refused, naming the sizes") {
  const auto c = cluster(8, 4);
  CHECK_THROWS_WITH_AS(sim::place(c, {64}), doctest::Contains("exceeds the cluster's 32"),
                       InputError);
  CHECK_THROWS_WITH_AS(sim::place(c, {2, 8, 24}), doctest::Contains("ranks 24..39"), InputError);
  CHECK_THROWS_AS(sim::place(c, {0}), InputError);
  // rooftop collective keeps nccl-tests' even groups
  CHECK_THROWS_WITH_AS(sim::place_group(c, 12), doctest::Contains("8 in one, 4 in another"),
                       InputError);
}
