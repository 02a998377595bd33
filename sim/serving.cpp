// Serving simulator: the scheduler loop of continuous batching over a paged KV cache.
#include "sim/serving.hpp"

#include "core/errors.hpp"
#include "sim/step_cost.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <iomanip>
#include <sstream>

namespace rooftop::sim {

std::string to_string(Admission a) { return a == Admission::on_demand ? "on-demand" : "reserve"; }

Admission admission_from_string(const std::string &s) {
  if (s == "on-demand") return Admission::on_demand;
  if (s == "reserve") return Admission::reserve;
  throw InputError("--admission '" + s + "': expected on-demand or reserve");
}

void check_scheduler_config(const SchedulerConfig &c) {
  if (c.max_num_seqs < 1) throw InputError("--max-num-seqs must be >= 1");
  if (c.max_num_batched_tokens < 1) throw InputError("--max-num-batched-tokens must be >= 1");
  if (c.block_size < 1 || c.block_size > 65536)
    throw InputError("--block-size must be in [1, 65536] tokens");
  if (!(std::isfinite(c.step_overhead.value()) && c.step_overhead.value() >= 0 &&
        c.step_overhead.value() < 1))
    throw InputError("--step-overhead must be in [0, 1) s");
  if (!(std::isfinite(c.kv_pool.value()) && c.kv_pool.value() >= 0))
    throw InputError("--kv-pool must be a size >= 0 bytes (0 = what memory leaves)");
  if (!(c.reserve_fraction >= 0 && c.reserve_fraction < 1))
    throw InputError("--reserve-fraction must be in [0, 1)");
}

Seconds RequestOutcome::tpot() const {
  if (request.output_tokens <= 1) return Seconds(0);
  return (finish - first_token) * (1.0 / static_cast<double>(request.output_tokens - 1));
}

LatencyStats latency_stats(std::vector<double> x) {
  LatencyStats s;
  s.count = x.size();
  if (x.empty()) return s;
  std::sort(x.begin(), x.end());
  const auto at = [&](double q) {
    const double rank = q * static_cast<double>(x.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(rank));
    const std::size_t hi = std::min(lo + 1, x.size() - 1);
    return Seconds(x[lo] + (x[hi] - x[lo]) * (rank - static_cast<double>(lo)));
  };
  double sum = 0;
  for (double v : x) sum += v;
  s.mean = Seconds(sum / static_cast<double>(x.size()));
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = Seconds(x.back());
  return s;
}

namespace {

/// How errors name request i: "request i", or "FILE: request i (/requests/i)" for a trace.
std::string request_label(const std::string &origin, std::size_t i) {
  const std::string n = std::to_string(i);
  return origin.empty() ? "request " + n : origin + ": request " + n + " (/requests/" + n + ")";
}

/// "84.2e9 bytes": a size for an error message, in bytes with its decimal exponent (4 digits;
/// fixed notation for the mantissa, so 8.7e23 bytes reads "868900000000000e9", not "8.689e+14e9").
/// Under 1e5 bytes, where the mantissa would need an exponent of its own ("1e-09e9"), the whole
/// number of bytes: "1 bytes", "65536 bytes".
std::string gb(Bytes b) {
  const double v = b.value() / 1e9;
  std::ostringstream o;
  if (std::abs(b.value()) < 1e5) {
    o << std::fixed << std::setprecision(0) << b.value() << " bytes";
    return o.str();
  }
  if (std::abs(v) >= 1e4) o << std::fixed << std::setprecision(0);
  else o << std::setprecision(4);
  o << v << "e9 bytes";
  return o.str();
}

/// A request inside one replica's scheduler.
struct Live {
  std::size_t index = 0;   ///< into ServingResult::requests
  long long prompt = 0;    ///< tokens to prefill: the input, plus the output so far after a
                           ///< preemption (recompute)
  long long computed = 0;  ///< tokens in the KV cache
  long long generated = 0; ///< output tokens sampled
  long long blocks = 0;    ///< KV-cache blocks held
  Bytes held;              ///< their bytes on one GPU
};

/// One scheduler's KV pool, in blocks of `block` tokens, bytes on one GPU of pipeline stage
/// `stage` (every layer when null).
class KvPool {
public:
  KvPool(const wl::ModelSpec &m, const wl::Deployment &d, long long block, Bytes capacity,
         const wl::StageSlice *stage, std::string described)
      : m_(m), d_(d), block_(block), capacity_(capacity), stage_(stage),
        described_(std::move(described)) {}
  /// Bytes of `blocks` blocks of one sequence (sliding-window layers keep at most the window).
  [[nodiscard]] Bytes bytes(long long blocks) const {
    return wl::kv_cache_bytes_per_gpu(m_, d_, 1, blocks * block_, stage_);
  }
  [[nodiscard]] long long blocks_for(long long tokens) const {
    return (tokens + block_ - 1) / block_;
  }
  /// Grows `r` to hold `tokens` tokens; false (nothing changed) when the pool lacks room.
  bool grow(Live &r, long long tokens) {
    const long long want = blocks_for(tokens);
    if (want <= r.blocks) return true;
    const Bytes need = bytes(want);
    if (used_ - r.held + need > capacity_) return false;
    used_ += need - r.held;
    r.held = need;
    r.blocks = want;
    peak_ = max(peak_, used_);
    return true;
  }
  void release(Live &r) {
    used_ -= r.held;
    r.held = Bytes(0);
    r.blocks = 0;
  }
  [[nodiscard]] bool fits_alone(long long tokens) const { return bytes(blocks_for(tokens)) <= capacity_; }
  [[nodiscard]] Bytes peak() const { return peak_; }
  [[nodiscard]] Bytes capacity() const { return capacity_; }
  /// The capacity and where it comes from, for errors: "the KV pool of 20e9 bytes per GPU
  /// (--kv-pool)", or with pipeline stages "the 10e9 bytes per micro-batch scheduler, 1/2 of
  /// the KV pool of 20e9 bytes per GPU of pipeline stage 1 (--kv-pool)".
  [[nodiscard]] const std::string &described() const { return described_; }

private:
  const wl::ModelSpec &m_;
  const wl::Deployment &d_;
  long long block_;
  Bytes capacity_, used_, peak_;
  const wl::StageSlice *stage_;
  std::string described_;
};

/// Counters one replica adds to the result.
struct ReplicaTotals {
  long long steps = 0, decodes = 0, preemptions = 0, max_running = 0;
  Bytes peak_kv;
};

/// One scheduled piece of work in a step.
struct Work {
  Live *r;
  long long tokens;
};

class Replica {
public:
  Replica(const StepCost &cost, const SchedulerConfig &cfg, KvPool pool,
          std::vector<RequestOutcome> &out, const std::string &origin)
      : cost_(cost), cfg_(cfg), pool_(std::move(pool)), out_(out), origin_(origin) {}

  ReplicaTotals run(const std::vector<std::size_t> &mine) {
    std::deque<Live> storage;
    for (std::size_t i : mine) {
      Live l;
      l.index = i;
      l.prompt = out_[i].request.input_tokens;
      storage.push_back(l);
      arrivals_.push_back(&storage.back());
    }
    for (const Live *r : arrivals_) // a request the whole pool cannot hold would never finish
      if (!pool_.fits_alone(peak_tokens(*r))) never_fits(*r);
    std::size_t next = 0; // next arrival not yet in waiting_
    Seconds now(0);
    while (next < arrivals_.size() || !waiting_.empty() || !running_.empty()) {
      while (next < arrivals_.size() && arrival(*arrivals_[next]) <= now)
        waiting_.push_back(arrivals_[next++]);
      const std::vector<Work> work = schedule();
      if (!work.empty()) {
        now += step_time(work) + cfg_.step_overhead;
        finish_step(work, now);
      } else if (!preempted_) {
        // Nothing runs and nothing queued can start: idle until the next arrival.
        if (!running_.empty() || !waiting_.empty() || next >= arrivals_.size())
          throw InternalError("serving simulator: a step with nothing to schedule");
        now = max(now, arrival(*arrivals_[next]));
      }
    }
    totals_.peak_kv = pool_.peak();
    return totals_;
  }

private:
  [[nodiscard]] Seconds arrival(const Live &r) const {
    return Seconds(out_[r.index].request.arrival_s);
  }
  [[nodiscard]] long long output(const Live &r) const {
    return out_[r.index].request.output_tokens;
  }

  /// The most tokens a request holds KV blocks for. On demand: I + O - 1, since the prefill
  /// samples token 1 and the O - 1 decode steps each add the previous token's K/V (the last
  /// token is sampled, never cached). Reserve: I + O, what TensorRT-LLM's
  /// getRemainingBlocksToCompletion reserves (ceil((prompt + max_new_tokens) / block)).
  [[nodiscard]] long long peak_tokens(const Live &r) const {
    const auto &q = out_[r.index].request;
    return q.input_tokens + q.output_tokens - (cfg_.admission == Admission::reserve ? 0 : 1);
  }

  [[noreturn]] void never_fits(const Live &r) const {
    const auto &q = out_[r.index].request;
    throw InputError(request_label(origin_, r.index) + " (" + std::to_string(q.input_tokens) +
                     " input + " + std::to_string(q.output_tokens) +
                     " output tokens) cannot be scheduled: its KV cache (" +
                     std::to_string(std::llround(
                         pool_.bytes(pool_.blocks_for(peak_tokens(r))).value())) +
                     " bytes per GPU) does not fit in " + pool_.described());
  }

  /// Preempts the most recently admitted running request (recompute): it frees its blocks and
  /// goes back to the head of the queue with its output so far added to its prompt.
  void preempt_last() {
    Live *v = running_.back();
    running_.pop_back();
    pool_.release(*v);
    v->prompt = out_[v->index].request.input_tokens + v->generated;
    v->computed = 0;
    ++out_[v->index].preemptions;
    ++totals_.preemptions;
    waiting_.push_front(v);
    preempted_ = true;
  }

  std::vector<Work> schedule() {
    std::vector<Work> work;
    long long budget = cfg_.max_num_batched_tokens;
    preempted_ = false;
    // Running requests first, in admission order: a decode token or their next prompt chunk.
    for (std::size_t i = 0; i < running_.size() && budget > 0; ++i) {
      Live *r = running_[i];
      const long long n = r->computed < r->prompt ? std::min(r->prompt - r->computed, budget) : 1;
      bool ok = pool_.grow(*r, r->computed + n);
      while (!ok && running_.back() != r) { // reserve admission never gets here
        preempt_last();
        ok = pool_.grow(*r, r->computed + n);
      }
      if (!ok) {
        if (running_.size() == 1) never_fits(*r); // checked up front; kept as a guard
        preempt_last(); // r itself
        break;
      }
      work.push_back({r, n});
      budget -= n;
    }
    // Then waiting requests in arrival order, while nothing was preempted this step.
    while (!preempted_ && !waiting_.empty() && budget > 0 &&
           static_cast<long long>(running_.size()) < cfg_.max_num_seqs) {
      Live *r = waiting_.front();
      const long long n = std::min(r->prompt - r->computed, budget);
      const long long need = cfg_.admission == Admission::reserve
                                 ? r->prompt + output(*r) - r->generated
                                 : r->computed + n;
      if (!pool_.grow(*r, need)) break;
      waiting_.pop_front();
      running_.push_back(r);
      work.push_back({r, n});
      budget -= n;
    }
    totals_.max_running = std::max(totals_.max_running, static_cast<long long>(running_.size()));
    return work;
  }

  Seconds step_time(const std::vector<Work> &work) {
    StepShape s;
    for (const auto &w : work) {
      if (w.r->computed >= w.r->prompt) {
        ++s.decodes;
        s.decode_past_sum += static_cast<double>(w.r->computed);
      } else {
        s.prefills.push_back({w.r->computed, w.tokens, w.r->computed + w.tokens == w.r->prompt});
      }
    }
    ++totals_.steps;
    totals_.decodes += s.decodes;
    return cost_.time(s);
  }

  void finish_step(const std::vector<Work> &work, Seconds now) {
    for (const auto &w : work) {
      Live &r = *w.r;
      const bool decode = r.computed >= r.prompt;
      r.computed += w.tokens;
      if (!decode && r.computed < r.prompt) continue; // a chunk that does not end the prompt
      ++r.generated;                                   // the step samples a token
      RequestOutcome &o = out_[r.index];
      if (r.generated == 1) o.first_token = now;
      if (r.generated < output(r)) continue;
      o.finish = now;
      pool_.release(r);
      std::erase(running_, &r);
    }
  }

  const StepCost &cost_;
  const SchedulerConfig &cfg_;
  KvPool pool_;
  std::vector<RequestOutcome> &out_;
  const std::string &origin_;
  std::vector<Live *> arrivals_;
  std::deque<Live *> waiting_;
  std::vector<Live *> running_;
  ReplicaTotals totals_;
  bool preempted_ = false;
};


} // namespace

ServingResult simulate_serving(const hw::GpuSpec &gpu, const wl::ModelSpec &m,
                               const wl::Deployment &d, const hw::Efficiency &eff,
                               const hw::Cluster &cluster, const SchedulerConfig &cfg,
                               const std::vector<wl::Request> &requests,
                               const std::string &origin) {
  check_scheduler_config(cfg);
  wl::validate_requests(requests, origin.empty() ? "requests" : origin);
  // Before the mapping check below, whose 1-token stand-in prompt would blame --cp on it.
  if (d.cp > 1) throw InputError("--cp " + std::to_string(d.cp) +
                                 ": the serving simulator does not model context parallelism");
  wl::Deployment one = d;
  one.batch = 1;
  // The requests carry their own lengths (checked below): d's input_len and output_len, those
  // of a static estimate, mean nothing here and must not be held against the model's positions.
  one.input_len = 1;
  one.output_len = 1;
  wl::validate_mapping(m, one);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto &q = requests[i];
    if (m.max_position_embeddings > 0 &&
        q.input_tokens + q.output_tokens > m.max_position_embeddings)
      throw InputError(request_label(origin, i) + ": input_tokens + output_tokens = " +
                       std::to_string(q.input_tokens + q.output_tokens) +
                       " exceeds max_position_embeddings = " +
                       std::to_string(m.max_position_embeddings) + " of " + m.file);
  }
  const StepCost cost(gpu, m, one, eff, cluster);
  ServingResult res;
  // Memory: the weights, one step's activations (a prefill pass of max_num_batched_tokens) and
  // the reserve; the rest of the GPU holds the KV cache. With pipeline stages, each GPU holds
  // its stage's layers, and the stage whose room holds the fewest tokens of the longest request
  // sets the pool.
  wl::Deployment step = one;
  step.input_len = cfg.max_num_batched_tokens;
  step.output_len = 1;
  EstimateOptions o;
  o.reserve_fraction = cfg.reserve_fraction;
  o.max_prefill_tokens = cfg.max_num_batched_tokens;
  const auto room = [](const MemoryBreakdown &mem) {
    return mem.capacity - mem.reserved - mem.weights - mem.activations;
  };
  std::vector<wl::StageSlice> slices;
  const wl::StageSlice *kv_stage = nullptr;
  if (d.pp > 1) {
    slices = wl::split_stages(m, d.pp);
    long long longest = 1;
    for (const auto &q : requests) longest = std::max(longest, q.input_tokens + q.output_tokens);
    double fewest = 0;
    for (std::size_t s = 0; s < slices.size(); ++s) {
      const MemoryBreakdown mem = estimate_stage_memory(gpu, m, step, o, slices[s]);
      const Bytes per = wl::kv_cache_bytes_per_gpu(m, one, 1, longest, &slices[s]);
      const double held = per.value() > 0 ? room(mem) / per : room(mem).value();
      if (s == 0 || held < fewest) {
        fewest = held;
        res.memory = mem;
        res.kv_stage = static_cast<long long>(s);
        kv_stage = &slices[s];
      }
    }
  } else {
    res.memory = estimate_memory(gpu, m, step, o);
  }
  res.memory.kv_cache = Bytes(0);
  res.kv_pool = room(res.memory);
  const std::string stage_text =
      d.pp > 1 ? " of pipeline stage " + std::to_string(res.kv_stage) : std::string();
  if (cfg.kv_pool.value() > 0) {
    if (cfg.kv_pool > res.kv_pool)
      throw InputError("--kv-pool = " + gb(cfg.kv_pool) + ": more than the " + gb(res.kv_pool) +
                       " per GPU" + stage_text +
                       " left beside the weights, one step's activations and the reserve");
    res.kv_pool = cfg.kv_pool;
  }
  if (res.kv_pool.value() <= 0)
    throw InputError(m.id + " does not fit: weights " + gb(res.memory.weights) +
                     ", one step's activations " + gb(res.memory.activations) + " and the reserve " +
                     gb(res.memory.reserved) + " per GPU" + stage_text + " take more than its " +
                     gb(res.memory.capacity) +
                     ", leaving no room for the KV cache (more GPUs, --tp, --pp, or a narrower "
                     "--weight-dtype)");
  // Each replica runs pp schedulers (one per micro-batch in flight), each with 1/pp of the
  // pool. Requests go to the schedulers in turn, by arrival: replica k mod dp first.
  const long long engines = d.dp * std::max(1LL, d.pp);
  const Bytes share = res.kv_pool * (1.0 / static_cast<double>(std::max(1LL, d.pp)));
  res.requests.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) res.requests[i].request = requests[i];
  std::vector<std::size_t> order(requests.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return requests[a].arrival_s < requests[b].arrival_s;
  });
  std::vector<std::vector<std::size_t>> per(static_cast<std::size_t>(engines));
  for (std::size_t k = 0; k < order.size(); ++k) {
    per[k % per.size()].push_back(order[k]);
    res.requests[order[k]].replica = static_cast<long long>(k % per.size()) % d.dp;
  }
  // What one scheduler's pool is, for its errors: with pp > 1 its share, then the whole pool.
  std::string pool_text = "the KV pool of " + gb(res.kv_pool) + " per GPU" + stage_text +
                          (cfg.kv_pool.value() > 0 ? std::string(" (--kv-pool)")
                                                   : std::string(" left beside the weights, one "
                                                                 "step's activations and the "
                                                                 "reserve"));
  if (d.pp > 1)
    pool_text = "the " + gb(share) + " per micro-batch scheduler, 1/" + std::to_string(d.pp) +
                " of " + pool_text;
  double decodes = 0;
  Bytes peak;
  for (const auto &mine : per) {
    if (mine.empty()) continue;
    Replica r(cost, cfg, KvPool(m, one, cfg.block_size, share, kv_stage, pool_text),
              res.requests, origin);
    const ReplicaTotals t = r.run(mine);
    res.steps += t.steps;
    res.preemptions += t.preemptions;
    decodes += static_cast<double>(t.decodes);
    res.max_running = std::max(res.max_running, t.max_running);
    peak = max(peak, t.peak_kv);
  }
  res.peak_kv_fraction = peak / share;
  res.mean_decode_batch = res.steps > 0 ? decodes / static_cast<double>(res.steps) : 0;
  double start = requests.front().arrival_s, end = 0, out_tokens = 0, in_tokens = 0;
  std::vector<double> ttft, tpot, e2e;
  for (const auto &q : res.requests) {
    start = std::min(start, q.request.arrival_s);
    end = std::max(end, q.finish.value());
    out_tokens += static_cast<double>(q.request.output_tokens);
    in_tokens += static_cast<double>(q.request.input_tokens);
    ttft.push_back(q.ttft().value());
    e2e.push_back(q.e2e().value());
    if (q.request.output_tokens > 1) tpot.push_back(q.tpot().value());
  }
  res.makespan = Seconds(end - start);
  const double span = res.makespan.value();
  res.output_tokens_per_s = out_tokens / span;
  res.output_tokens_per_s_per_gpu = res.output_tokens_per_s / static_cast<double>(d.gpus());
  res.input_tokens_per_s = in_tokens / span;
  res.requests_per_s = static_cast<double>(requests.size()) / span;
  res.ttft = latency_stats(ttft);
  res.tpot = latency_stats(tpot);
  res.e2e = latency_stats(e2e);
  res.system = cluster.system.id;
  res.nodes = cluster.nodes;
  res.measured_allreduce = cost.uses_measured_allreduce();
  return res;
}

} // namespace rooftop::sim
