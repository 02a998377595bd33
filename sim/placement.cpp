// Group placement: the split of groups of ranks over scale-up domains, worst case when uneven.
#include "sim/placement.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <numeric>
#include <string>
#include <tuple>

namespace rooftop::sim {
namespace {

/// The split of the group {first + k stride : k < size} over domains of d ranks: O(1) for a
/// contiguous group (a head, whole domains, a tail), else one step per domain touched.
Placement split(long long first, long long size, long long stride, long long d) {
  if (stride == 1) {
    const long long head = std::min(size, first == 0 ? d : d - first % d);
    const long long whole = (size - head) / d, tail = (size - head) % d;
    const long long most = whole > 0 ? d : std::max(head, tail);
    const long long fewest = tail > 0 ? std::min(head, tail) : head;
    return {size, most, fewest, 1 + whole + (tail > 0 ? 1 : 0)};
  }
  long long most = 0, fewest = size, spanned = 0;
  for (long long k = 0; k < size; ++spanned) {
    // Members are increasing: those in this domain run up to the first past its end.
    const long long end = (first + k * stride) / d * d + d;
    const long long next = std::min(size, (end - first + stride - 1) / stride);
    most = std::max(most, next - k);
    fewest = std::min(fewest, next - k);
    k = next;
  }
  return {size, most, fewest, spanned};
}

} // namespace

Placement::Placement(long long size_, long long per_domain_)
    : size(size_), per_domain(per_domain_), fewest_per_domain(per_domain_) {
  if (per_domain < 1 || size % per_domain != 0)
    throw InternalError("Placement: " + std::to_string(per_domain) + " per domain does not split " +
                        std::to_string(size) + " ranks evenly");
  spanned = size / per_domain;
}

Placement::Placement(long long size_, long long most, long long fewest, long long spanned_)
    : size(size_), per_domain(most), fewest_per_domain(fewest), spanned(spanned_) {}

bool worse_or_same(const Placement &a, const Placement &b) {
  return std::tuple(a.spanned, -a.fewest_per_domain, a.per_domain) >=
         std::tuple(b.spanned, -b.fewest_per_domain, b.per_domain);
}

Placement place(const hw::Cluster &c, const GroupLayout &g) {
  if (g.size < 1)
    throw InputError("a communication group needs >= 1 GPU, got " + std::to_string(g.size));
  if (g.stride < 1 || g.first < 0 || g.span < 0) throw InternalError("place: bad group layout");
  const long long block = g.size * g.stride;
  const long long span = std::max(block, g.span);
  if (g.first + span > c.gpus()) {
    const bool plain = g.stride == 1 && g.first == 0 && span == g.size;
    throw InputError("a group of " + std::to_string(g.size) + " GPUs" +
                     (plain ? "" : " (ranks " + std::to_string(g.first) + ".." +
                                       std::to_string(g.first + span - 1) + ")") +
                     " exceeds the cluster's " + std::to_string(c.gpus()) + " (" +
                     std::to_string(c.nodes) + " x " + c.system.id + ")");
  }
  if (g.size == 1) return {};
  const long long d = std::max(1LL, std::min(c.system.domain_gpus, c.gpus()));
  if (g.stride == 1 && span == block) return split(g.first, g.size, 1, d); // one group
  // Block b and block b + lcm(d, block) / block start at the same offset in their domains.
  const long long limit =
      span > block ? std::max(block, std::min({span, std::lcm(d, block), 1LL << 20})) : block;
  Placement worst = split(g.first, g.size, g.stride, d);
  for (long long b0 = g.first; b0 + block <= g.first + limit; b0 += block)
    for (long long j = b0 == g.first ? 1 : 0; j < g.stride; ++j) {
      const Placement p = split(b0 + j, g.size, g.stride, d);
      if (!worse_or_same(worst, p)) worst = p;
    }
  return worst;
}

Placement place_group(const hw::Cluster &c, long long size) {
  const Placement p = place(c, {size});
  if (!p.even())
    throw InputError("a group of " + std::to_string(size) + " GPUs does not split evenly over " +
                     std::to_string(std::min(c.system.domain_gpus, c.gpus())) +
                     "-GPU scale-up domains of " + c.system.id + " (" +
                     std::to_string(p.per_domain) + " in one, " +
                     std::to_string(p.fewest_per_domain) + " in another)");
  return p;
}

} // namespace rooftop::sim
