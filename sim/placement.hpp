// Where a communication group sits on a cluster: how its ranks split over scale-up domains.
#pragma once

#include "hwmodels/system.hpp"

namespace rooftop::sim {

/// How a group of GPUs splits over the cluster's scale-up domains. An even split has the same
/// number of ranks in every domain it touches; an uneven one (12 ranks on 8-GPU domains: 8 + 4)
/// is costed at its worst node: the most ranks in one domain for the part inside a domain, the
/// fewest (the fewest NICs) for the part across domains.
struct Placement {
  long long size = 1;              ///< GPUs in the group
  long long per_domain = 1;        ///< the most of them in one scale-up domain
  long long fewest_per_domain = 1; ///< the fewest of them in one domain it touches
  long long spanned = 1;           ///< scale-up domains it touches

  Placement() = default;
  /// An even split: `per_domain` ranks in each of size / per_domain domains. Throws
  /// InternalError when per_domain does not divide size.
  Placement(long long size, long long per_domain);
  /// Any split: the most and the fewest ranks in one domain and the domains touched.
  Placement(long long size, long long most, long long fewest, long long spanned);

  [[nodiscard]] long long domains() const { return spanned; }
  [[nodiscard]] bool even() const { return per_domain == fewest_per_domain; }
};

/// A family of groups on a cluster whose ranks fill scale-up domains in order (rank r sits in
/// domain r / D): groups of `size` ranks, `stride` ranks apart, tiling ranks [first, first +
/// span) in blocks of size x stride (TP: stride 1; CP: stride TP; a pipeline hand-off: size 2,
/// stride TP x CP, one block). span = 0 means one block.
struct GroupLayout {
  long long size = 1;
  long long stride = 1;
  long long first = 0;
  long long span = 0;
};

/// The split of the worst group of `g` on `c` (most domains, then fewest ranks in one domain,
/// then most in one): groups that step together wait for the slowest. The pattern repeats every
/// lcm(D, size x stride) ranks, so at most that many ranks are examined. Throws InputError when
/// the groups need more GPUs than the cluster has.
Placement place(const hw::Cluster &c, const GroupLayout &g);

/// True when `a` costs at least as much as `b` (the order `place` uses to pick the worst).
bool worse_or_same(const Placement &a, const Placement &b);

/// One contiguous group of `size` GPUs from rank 0, as `rooftop collective` and nccl-tests run
/// it. Throws InputError when it exceeds the cluster or does not split evenly over domains.
Placement place_group(const hw::Cluster &c, long long size);

} // namespace rooftop::sim
