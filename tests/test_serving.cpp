// Serving simulator: request generation and traces, the mixed-step cost, and the scheduler.
#include "core/errors.hpp"
#include "hwmodels/efficiency.hpp"
#include "hwmodels/gpu_spec.hpp"
#include "hwmodels/system.hpp"
#include "sim/estimate.hpp"
#include "sim/serving.hpp"
#include "sim/step_cost.hpp"
#include "workloads/model_catalogue.hpp"
#include "workloads/requests.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <tuple>

using namespace rooftop;

namespace {
const std::string good = ROOFTOP_TEST_DATA_DIR "/good/";
const hw::GpuSpec &h100() { return hw::GpuCatalogue::builtin().get("h100-sxm"); }

wl::Deployment one_gpu() {
  wl::Deployment d;
  d.batch = 1;
  return d;
}

/// n requests of `in` / `out` tokens, all at t = 0.
std::vector<wl::Request> same(long long n, long long in, long long out) {
  wl::RequestPattern p;
  p.count = n;
  p.input_tokens = in;
  p.output_tokens = out;
  return wl::generate_requests(p);
}

struct Setup {
  wl::ModelSpec m = wl::load_hf_config(good + "dense-30b.config.json");
  wl::Deployment d = one_gpu();
  hw::Efficiency eff = hw::Efficiency::ideal();
  hw::Cluster c = hw::cluster_for_gpu(h100(), 1);
  sim::ServingResult run(const sim::SchedulerConfig &cfg, const std::vector<wl::Request> &r) {
    return sim::simulate_serving(h100(), m, d, eff, c, cfg, r);
  }
  sim::StepCost cost() { return {h100(), m, d, eff, c}; }
};

std::string write(const std::string &name, const std::string &text) {
  const std::string path = "/tmp/rooftop_test_" + name;
  std::ofstream(path) << text;
  return path;
}
} // namespace

TEST_CASE("generated requests: fixed lengths, all at t = 0 or Poisson arrivals") {
  const auto r = same(3, 100, 20);
  REQUIRE(r.size() == 3);
  for (const auto &q : r) {
    CHECK(q.arrival_s == 0.0);
    CHECK(q.input_tokens == 100);
    CHECK(q.output_tokens == 20);
  }
  wl::RequestPattern p;
  p.count = 100000;
  p.rate_per_s = 50;
  const auto a = wl::generate_requests(p);
  CHECK(std::is_sorted(a.begin(), a.end(), [](const wl::Request &x, const wl::Request &y) {
    return x.arrival_s < y.arrival_s;
  }));
  // The mean of n exponential gaps of mean 1/50 s has a standard deviation of 0.02/sqrt(1e5)
  // = 6.3e-5 s (0.3%); 1.5% is about five of them.
  CHECK(a.back().arrival_s / 100000.0 == doctest::Approx(0.02).epsilon(0.015));
  CHECK(wl::generate_requests(p).back().arrival_s == a.back().arrival_s); // same seed
  p.seed = 2;
  CHECK(wl::generate_requests(p).back().arrival_s != a.back().arrival_s);
  p.rate_per_s = -1;
  CHECK_THROWS_AS(wl::generate_requests(p), InputError);
  p.rate_per_s = 1;
  p.count = 0;
  CHECK_THROWS_AS(wl::generate_requests(p), InputError);
}

TEST_CASE("generated requests with a stride: every stride-th arrival of the whole stream") {
  wl::RequestPattern all;
  all.count = 3000;
  all.rate_per_s = 40;
  all.seed = 7;
  const auto stream = wl::generate_requests(all);
  wl::RequestPattern one = all;
  one.count = 1000;
  one.stride = 3;
  const auto mine = wl::generate_requests(one);
  REQUIRE(mine.size() == 1000);
  for (std::size_t i = 0; i < mine.size(); ++i)
    CHECK(mine[i].arrival_s == stream[3 * i].arrival_s); // the same draws, summed alike
  one.stride = 0;
  CHECK_THROWS_AS(wl::generate_requests(one), InputError);
}

TEST_CASE("request traces: rooftop.requests/1, in the file's order, bad fields named") {
  const auto path = write("requests.json", R"({"schema": "rooftop.requests/1", "source": "test",
    "requests": [{"arrival_s": 2.0, "input_tokens": 10, "output_tokens": 5},
                 {"arrival_s": 1.0, "input_tokens": 20, "output_tokens": 6}]})");
  const auto r = wl::load_requests(path);
  REQUIRE(r.size() == 2); // request i is /requests/i, whatever the arrivals
  CHECK(r[0].arrival_s == 2.0);
  CHECK(r[0].output_tokens == 5);
  CHECK(r[1].input_tokens == 20);
  const auto error = [](const std::string &name, const std::string &text) {
    try {
      wl::load_requests(write(name, text));
    } catch (const InputError &e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("r1.json", R"({"schema": "rooftop.requests/1", "requests": [{"input_tokens": 0,
    "output_tokens": 5}]})").find("/requests/0/input_tokens") != std::string::npos);
  CHECK(error("r2.json", R"({"schema": "rooftop.requests/1", "requests": [{"arrival_s": -1,
    "input_tokens": 3, "output_tokens": 5}]})").find("/requests/0/arrival_s") != std::string::npos);
  CHECK(error("r3.json", R"({"schema": "rooftop.requests/1", "requests": [{"input_tokens": 3,
    "output_tokens": 5, "prompt": "hi"}]})").find("prompt") != std::string::npos);
  CHECK(error("r4.json", R"({"schema": "rooftop.requests/1", "requests": []})")
            .find("/requests") != std::string::npos);
  CHECK(error("r5.json", R"({"schema": "rooftop.model/1", "requests": []})").find("/schema") !=
        std::string::npos);
  // At 1e18 s a double cannot add a step of milliseconds: refused, not a makespan of 0.
  CHECK(error("r6.json", R"({"schema": "rooftop.requests/1", "requests": [{"arrival_s": 1e18,
    "input_tokens": 3, "output_tokens": 5}]})").find("/requests/0/arrival_s") != std::string::npos);
  CHECK(error("r7.json", R"({"schema": "rooftop.requests/1", "requests": [{"arrival_s": 1e8,
    "input_tokens": 3, "output_tokens": 5}]})") == "no error");
}

TEST_CASE("requests arriving past the clock's resolution are input errors, not inf throughput") {
  // 2 requests at 1e-12 requests/s arrive ~1e12 s apart, beyond max_arrival_s = 1e8 s.
  wl::RequestPattern p;
  p.count = 2;
  p.rate_per_s = 1e-12;
  CHECK_THROWS_WITH_AS(wl::generate_requests(p), doctest::Contains("--rate = 1e-12"), InputError);
  Setup s;
  std::vector<wl::Request> late = same(1, 10, 5);
  late[0].arrival_s = 1e18;
  CHECK_THROWS_WITH_AS(s.run({}, late), doctest::Contains("arrival_s"), InputError);
  late[0].arrival_s = 1e8; // the latest accepted: the clock still resolves the steps
  const auto r = s.run({}, late);
  const auto at0 = s.run({}, same(1, 10, 5));
  CHECK(r.makespan.value() == doctest::Approx(at0.makespan.value()).epsilon(1e-5));
}

TEST_CASE("latency percentiles interpolate between order statistics") {
  // sorted 1 2 3 4: p50 at rank 1.5 -> 2.5; p90 at rank 2.7 -> 3.7; p99 at 2.97 -> 3.97
  const auto s = sim::latency_stats({4, 1, 3, 2});
  CHECK(s.mean.value() == doctest::Approx(2.5));
  CHECK(s.p50.value() == doctest::Approx(2.5));
  CHECK(s.p90.value() == doctest::Approx(3.7));
  CHECK(s.p99.value() == doctest::Approx(3.97));
  CHECK(s.max.value() == 4.0);
}

TEST_CASE("step cost: a decode-only step is estimate's decode step, a whole prompt its prefill") {
  Setup s;
  s.eff = hw::builtin_efficiency(h100()); // with overheads and efficiencies, not only ideal
  const auto cost = s.cost();
  // estimate with output 2 has one decode step, at past = input_len.
  wl::Deployment d = s.d;
  d.batch = 8;
  d.input_len = 500;
  d.output_len = 2;
  const auto e = sim::estimate(h100(), s.m, d, s.eff, {}, &s.c);
  sim::StepShape dec;
  dec.decodes = 8;
  dec.decode_past_sum = 8 * 500.0;
  CHECK(cost.time(dec).value() == doctest::Approx(e.tpot.value()).epsilon(1e-12));
  d.batch = 1;
  const auto e1 = sim::estimate(h100(), s.m, d, s.eff, {}, &s.c);
  sim::StepShape pre;
  pre.prefills.push_back({0, 500, true});
  CHECK(cost.time(pre).value() == doctest::Approx(e1.ttft.value()).epsilon(1e-12));
  // Together the weights are read once: less than the two steps apart, more than either.
  sim::StepShape both = dec;
  both.prefills = pre.prefills;
  CHECK(cost.time(both).value() < cost.time(dec).value() + cost.time(pre).value());
  CHECK(cost.time(both).value() > std::max(cost.time(dec).value(), cost.time(pre).value()));
  CHECK(cost.time(sim::StepShape{}).value() == 0.0);
}

TEST_CASE("step cost: several prompts in one step are estimate's batched prefill, with the "
          "calibrated attention's per-item cost of every chunk") {
  Setup s;
  s.eff = hw::builtin_efficiency(h100()); // H100's table: the additive attention model
  REQUIRE(s.eff.additive_attention());
  const auto cost = s.cost();
  wl::Deployment d = s.d;
  d.batch = 4;
  d.input_len = 500;
  d.output_len = 2;
  const auto e = sim::estimate(h100(), s.m, d, s.eff, {}, &s.c);
  sim::StepShape pre;
  for (int i = 0; i < 4; ++i) pre.prefills.push_back({0, 500, true});
  CHECK(cost.time(pre).value() == doctest::Approx(e.ttft.value()).epsilon(1e-12));
  // The one merged attention launch counts the (sequence, KV head) pairs of every chunk, and a
  // one-token chunk (a prompt's last token) merged with prompts does not make it a decode.
  sim::StepShape mixed;
  mixed.prefills.push_back({700, 1, true});
  for (const auto &c : pre.prefills) mixed.prefills.push_back(c);
  double items = -1, news = -1;
  for (const auto &op : cost.ops(mixed))
    if (op.kind == wl::OpKind::attention) {
      items = op.items;
      news = op.new_tokens;
    }
  const auto one = wl::lower_pass(s.m, s.d, wl::Phase::prefill, {1, 500, 0});
  const auto at = std::find_if(one.begin(), one.end(),
                               [](const wl::Op &o) { return o.kind == wl::OpKind::attention; });
  REQUIRE(at != one.end());
  CHECK(at->items > 0);
  CHECK(items == doctest::Approx(5 * at->items));
  CHECK(news == 500);
}

TEST_CASE("step cost: GEMMs over every token, the LM head over the sampling sequences") {
  Setup s;
  const auto cost = s.cost();
  sim::StepShape st;
  st.decodes = 3;
  st.decode_past_sum = 300;
  st.prefills = {{0, 40, false}, {100, 25, true}};
  CHECK(st.tokens() == 68); // 3 + 40 + 25
  int attention = 0;
  for (const auto &op : cost.ops(st)) {
    if (std::strcmp(op.name, "qkv_proj") == 0) CHECK(op.rows == 68.0);
    if (op.kind == wl::OpKind::lm_head) CHECK(op.rows == 4.0); // 3 decodes + the last chunk
    if (op.kind == wl::OpKind::attention) ++attention;
  }
  CHECK(attention == 2); // decode attention, and one launch for both prefill chunks
  s.d.cp = 2;
  CHECK_THROWS_AS(s.cost(), InputError);
}

TEST_CASE("step cost with pipeline stages: the stages split one pass, plus the hand-off") {
  Setup s;
  s.eff = hw::builtin_efficiency(h100());
  const auto whole = s.cost();
  s.d.pp = 2;
  s.c = hw::cluster_for_gpu(h100(), 2);
  const auto piped = s.cost();
  REQUIRE(piped.stages() == 2);
  sim::StepShape st;
  st.decodes = 8;
  st.decode_past_sum = 8 * 4000.0;
  st.prefills = {{0, 300, true}};
  double flops_whole = 0, flops_piped = 0;
  for (const auto &op : whole.ops(st)) flops_whole += op.flops.value() * static_cast<double>(op.count);
  const wl::Op *send = nullptr;
  std::vector<wl::Op> first = piped.ops(st, 0), last = piped.ops(st, 1);
  for (const auto *ops : {&first, &last})
    for (const auto &op : *ops) flops_piped += op.flops.value() * static_cast<double>(op.count);
  for (const auto &op : first) {
    if (std::strcmp(op.name, "pp_send") == 0) send = &op;
    CHECK(op.kind != wl::OpKind::lm_head); // the head is the last stage's
  }
  CHECK(std::any_of(last.begin(), last.end(),
                    [](const wl::Op &op) { return op.kind == wl::OpKind::lm_head; }));
  CHECK(flops_piped == doctest::Approx(flops_whole).epsilon(1e-12));
  // Stage 0 hands the step's 308 tokens' hidden states (6144 x 2 bytes each) to stage 1.
  REQUIRE(send != nullptr);
  CHECK(send->comm_bytes.value() == doctest::Approx(308.0 * 6144 * 2).epsilon(1e-12));
  sim::Machine mach = sim::make_machine(h100(), s.eff, s.c, s.d);
  mach.pp = sim::pipeline_hop(s.c, s.d, 0);
  const double t0 = piped.stage_time(st, 0).value(), t1 = piped.stage_time(st, 1).value();
  CHECK(t0 + t1 == doctest::Approx(whole.time(st).value() + sim::cost_op(*send, mach).time.value())
                       .epsilon(1e-12));
  // Two micro-batches in flight: a step of each takes max(t0 + t1, 2 max(t0, t1)).
  CHECK(piped.time(st).value() == doctest::Approx(std::max(t0 + t1, 2 * std::max(t0, t1))).epsilon(1e-12));
  CHECK(piped.time(st).value() > 0);
}

TEST_CASE("serving: one request's timeline is one prefill step, then its decode steps") {
  Setup s;
  const auto cost = s.cost();
  sim::SchedulerConfig cfg;
  const auto r = s.run(cfg, same(1, 300, 5));
  sim::StepShape pre;
  pre.prefills.push_back({0, 300, true});
  const double ttft = cost.time(pre).value();
  double t = ttft;
  for (long long past = 300; past < 304; ++past) { // 4 decode steps at 300, 301, 302, 303
    sim::StepShape dec;
    dec.decodes = 1;
    dec.decode_past_sum = static_cast<double>(past);
    t += cost.time(dec).value();
  }
  REQUIRE(r.requests.size() == 1);
  CHECK(r.steps == 5);
  CHECK(r.requests[0].ttft().value() == doctest::Approx(ttft).epsilon(1e-12));
  CHECK(r.requests[0].e2e().value() == doctest::Approx(t).epsilon(1e-12));
  CHECK(r.requests[0].tpot().value() == doctest::Approx((t - ttft) / 4).epsilon(1e-12));
  CHECK(r.output_tokens_per_s == doctest::Approx(5 / t).epsilon(1e-12));
}

TEST_CASE("serving: chunked prefill splits a prompt by the token budget") {
  Setup s;
  sim::SchedulerConfig cfg;
  cfg.max_num_batched_tokens = 30;
  // 100 prompt tokens: chunks of 30, 30, 30, 10 (the last samples the first token), then 2
  // decode steps for the 3 output tokens.
  const auto r = s.run(cfg, same(1, 100, 3));
  CHECK(r.steps == 6);
}

TEST_CASE("serving: hand-derived throughput of a memory-bound batch (ideal H100)") {
  Setup s;
  sim::SchedulerConfig cfg;
  // 4 requests of 16 + 100 tokens at t = 0: one step prefills all four (64 tokens), then 99
  // decode steps of batch 4. dense-30b reads (30,039,349,248 - 196,608,000) x 2 B = 59.69 GB of
  // weights per step (test_estimate.cpp); at 3.35e12 B/s a step takes 17.82 ms, and 64 tokens
  // x 60 GFLOP = 3.8 TFLOP take 3.9 ms of the 989.5 TFLOP/s peak: every step is memory-bound.
  // 100 steps x 17.82 ms = 1.782 s for 400 tokens: 224.5 tokens/s (KV and activations add
  // under 1%).
  const auto r = s.run(cfg, same(4, 16, 100));
  CHECK(r.steps == 100);
  CHECK(r.makespan.value() == doctest::Approx(100 * 59.685e9 / 3.35e12).epsilon(0.01));
  CHECK(r.output_tokens_per_s == doctest::Approx(224.5).epsilon(0.01));
  CHECK(r.mean_decode_batch == doctest::Approx(4 * 99 / 100.0));
  CHECK(r.preemptions == 0);
}

TEST_CASE("serving: max_num_seqs runs requests in turn, FIFO") {
  Setup s;
  sim::SchedulerConfig cfg;
  cfg.max_num_seqs = 1;
  const auto r = s.run(cfg, same(3, 50, 4));
  CHECK(r.steps == 12); // 3 x (1 prefill + 3 decodes)
  CHECK(r.max_running == 1);
  CHECK(r.requests[0].finish < r.requests[1].first_token);
  CHECK(r.requests[1].finish < r.requests[2].first_token);
}

TEST_CASE("serving: a small KV pool limits concurrency (reserve) or preempts (on-demand)") {
  Setup s;
  // dense-30b: 64 layers x 2 x 8 KV heads x 128 x 2 B = 262,144 B per token (DOMAIN.md's
  // 30B has 8 KV heads of 128); blocks of 16 tokens = 4 MiB. A request of 100 + 28 tokens
  // needs 8 blocks; a pool of 20 blocks holds two whole requests.
  const Bytes per_token = wl::kv_bytes_per_token_per_gpu(s.m, s.d);
  sim::SchedulerConfig cfg;
  cfg.kv_pool = per_token * (20.0 * 16);
  cfg.admission = sim::Admission::reserve;
  const auto reserved = s.run(cfg, same(6, 100, 28));
  CHECK(reserved.max_running == 2);
  CHECK(reserved.preemptions == 0);
  CHECK(reserved.peak_kv_fraction == doctest::Approx(16.0 / 20.0));
  cfg.admission = sim::Admission::on_demand;
  const auto roomy = s.run(cfg, same(6, 100, 28));
  CHECK(roomy.preemptions == 0); // two admitted on 7 blocks each grow to 8: 16 of 20 blocks
  CHECK(roomy.max_running == 2);
  // With 15 blocks the two admitted on their prompts (14 blocks) cannot both grow to 8: the
  // later one is preempted, and recomputes its prompt and output so far when room returns.
  cfg.kv_pool = per_token * (15.0 * 16);
  const auto demand = s.run(cfg, same(6, 100, 28));
  CHECK(demand.max_running == 2);
  CHECK(demand.preemptions > 0);
  CHECK(demand.makespan > roomy.makespan);
  for (const auto &q : demand.requests) CHECK(q.finish.value() > 0);
  CHECK(demand.peak_kv_fraction <= 1.0);
  // A request the whole pool cannot hold is an error, not a hang.
  cfg.kv_pool = per_token * (7.0 * 16);
  CHECK_THROWS_AS(s.run(cfg, same(1, 100, 28)), InputError);
}

TEST_CASE("serving: a request of I + O tokens caches at most I + O - 1 (reserve: I + O)") {
  Setup s;
  // The prefill samples token 1 and the O - 1 = 27 decode steps each cache the previous token:
  // 100 + 27 = 127 tokens at most, never the last sampled one. In blocks of 1 token, a pool of
  // exactly 127 tokens runs the request alone and is full at its end; 126 cannot hold it.
  const Bytes per_token = wl::kv_bytes_per_token_per_gpu(s.m, s.d);
  sim::SchedulerConfig cfg;
  cfg.block_size = 1;
  cfg.kv_pool = per_token * 127.0;
  const auto r = s.run(cfg, same(1, 100, 28));
  CHECK(r.peak_kv_fraction == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(r.preemptions == 0);
  cfg.kv_pool = per_token * 126.0;
  CHECK_THROWS_WITH_AS(s.run(cfg, same(1, 100, 28)), doctest::Contains("request 0"), InputError);
  // Reserve admission reserves prompt + output = 128 tokens up front, as TensorRT-LLM does.
  cfg.admission = sim::Admission::reserve;
  cfg.kv_pool = per_token * 127.0;
  CHECK_THROWS_AS(s.run(cfg, same(1, 100, 28)), InputError);
  cfg.kv_pool = per_token * 128.0;
  CHECK(s.run(cfg, same(1, 100, 28)).peak_kv_fraction == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("serving: data-parallel replicas split the requests in turn") {
  Setup s;
  sim::SchedulerConfig cfg;
  const auto one = s.run(cfg, same(2, 64, 10));
  s.d.dp = 2;
  s.c = hw::cluster_for_gpu(h100(), 2);
  const auto two = s.run(cfg, same(4, 64, 10));
  CHECK(two.requests[0].replica == 0);
  CHECK(two.requests[1].replica == 1);
  CHECK(two.makespan.value() == doctest::Approx(one.makespan.value()).epsilon(1e-12));
  CHECK(two.output_tokens_per_s == doctest::Approx(2 * one.output_tokens_per_s).epsilon(1e-12));
  CHECK(two.output_tokens_per_s_per_gpu ==
        doctest::Approx(one.output_tokens_per_s_per_gpu).epsilon(1e-12));
}

TEST_CASE("serving with pipeline stages: pp schedulers per replica, each with 1/pp of the pool") {
  Setup s;
  s.d.pp = 2;
  s.c = hw::cluster_for_gpu(h100(), 2);
  const auto cost = s.cost();
  sim::SchedulerConfig cfg;
  // One request: its prefill is one step of its scheduler, the pipeline's cycle.
  const auto r = s.run(cfg, same(1, 300, 5));
  sim::StepShape pre;
  pre.prefills.push_back({0, 300, true});
  CHECK(r.requests[0].ttft().value() == doctest::Approx(cost.time(pre).value()).epsilon(1e-12));
  // Four at once go to the two schedulers in turn: each prefills two in its first step.
  const auto four = s.run(cfg, same(4, 300, 5));
  CHECK(four.max_running == 2);
  sim::StepShape two;
  two.prefills = {{0, 300, true}, {0, 300, true}};
  for (const auto &q : four.requests)
    CHECK(q.ttft().value() == doctest::Approx(cost.time(two).value()).epsilon(1e-12));
  CHECK(four.requests[0].replica == 0); // one replica (dp = 1)
  CHECK(four.requests[1].replica == 0);
  // The pool is shared out: a request that needs more than half of it fits no scheduler.
  const auto slices = wl::split_stages(s.m, 2);
  REQUIRE(four.kv_stage >= 0);
  REQUIRE(four.kv_stage < 2);
  const Bytes need = wl::kv_cache_bytes_per_gpu(s.m, s.d, 1, 1024, // 1000 + 10 - 1 in 16-token blocks
                                                &slices[static_cast<std::size_t>(four.kv_stage)]);
  cfg.kv_pool = need * 1.5;
  try {
    (void)s.run(cfg, same(1, 1000, 10));
    FAIL("a request needing 2/3 of the pool ran with two schedulers");
  } catch (const InputError &e) {
    // The pool is 1.5 x 134,217,728 B (1024 tokens x 32 layers x 2 x 8 x 128 x 2 B) =
    // 201,326,592 B per GPU; each scheduler has half of it, 100,663,296 B. The message names
    // both, each as what it is (it once called the half the pool, then halved it again).
    const std::string what = e.what();
    CHECK(what.find("does not fit in the 0.1007e9 bytes per micro-batch scheduler, 1/2 of the "
                    "KV pool of 0.2013e9 bytes per GPU of pipeline stage " +
                    std::to_string(four.kv_stage) + " (--kv-pool)") != std::string::npos);
  }
  cfg.kv_pool = need * 2.5;
  const auto fits = s.run(cfg, same(1, 1000, 10));
  CHECK(fits.peak_kv_fraction == doctest::Approx(1 / 1.25).epsilon(1e-12));
}

TEST_CASE("serving with pipeline stages and replicas: requests go to the replicas in turn") {
  Setup s;
  s.d.pp = 2;
  s.d.dp = 2;
  s.c = hw::cluster_for_gpu(h100(), 4);
  sim::SchedulerConfig cfg;
  // Eight at t = 0 keep their order: request k goes to scheduler k mod 4, that is replica k mod 2
  // (schedulers 0 and 2 are replica 0's), so each of the four schedulers runs two.
  const auto r = s.run(cfg, same(8, 300, 5));
  for (std::size_t k = 0; k < r.requests.size(); ++k)
    CHECK(r.requests[k].replica == static_cast<long long>(k % 2));
  CHECK(r.max_running == 2);
}

TEST_CASE("serving with pipeline stages: the stage holding the most layers sets the KV pool") {
  Setup s; // 64 layers in three stages: [0, 21), [21, 42), [42, 64)
  s.d.pp = 3;
  s.c = hw::cluster_for_gpu(h100(), 3);
  const auto r = s.run({}, same(1, 300, 5));
  CHECK(r.kv_stage == 2); // 22 layers and the LM head: the least room, the most KV per token
}

TEST_CASE("step cost with pipeline stages: each hand-off on its own link") {
  Setup s; // TP 4 x PP 3 on 8-GPU servers: stages on GPUs 0-3, 4-7 and 8-11
  s.eff = hw::builtin_efficiency(h100());
  s.d.tp = 4;
  s.d.pp = 3;
  s.c = hw::cluster_for_gpu(h100(), 12, 4);
  REQUIRE(s.c.nodes == 2);
  const auto cost = s.cost();
  sim::StepShape st;
  st.decodes = 16;
  st.decode_past_sum = 16 * 2000.0;
  const auto send_time = [&](std::size_t stage) {
    sim::Machine mach = sim::make_machine(h100(), s.eff, s.c, s.d);
    mach.pp = sim::pipeline_hop(s.c, s.d, static_cast<long long>(stage));
    double send = 0, all = 0;
    for (const auto &op : cost.ops(st, stage)) {
      const double t = sim::cost_op(op, mach).time.value() * static_cast<double>(op.count);
      all += t;
      if (std::strcmp(op.name, "pp_send") == 0) send += t;
    }
    CHECK(cost.stage_time(st, stage).value() == doctest::Approx(all).epsilon(1e-12));
    return send;
  };
  // Stage 0 hands over inside the server (NVLink), stage 1 across the two (the network).
  CHECK(sim::pipeline_hop(s.c, s.d, 0).domains() == 1);
  CHECK(sim::pipeline_hop(s.c, s.d, 1).domains() == 2);
  const double nvlink = send_time(0), network = send_time(1);
  CHECK(nvlink > 0);
  CHECK(network > nvlink);
}

TEST_CASE("serving: requests far apart each run alone") {
  Setup s;
  sim::SchedulerConfig cfg;
  const auto alone = s.run(cfg, same(1, 200, 8));
  wl::RequestPattern p;
  p.count = 5;
  p.rate_per_s = 0.01; // gaps of ~100 s against a run of ~0.15 s
  p.input_tokens = 200;
  p.output_tokens = 8;
  const auto r = s.run(cfg, wl::generate_requests(p));
  for (const auto &q : r.requests) {
    CHECK(q.ttft().value() == doctest::Approx(alone.requests[0].ttft().value()).epsilon(1e-12));
    CHECK(q.e2e().value() == doctest::Approx(alone.requests[0].e2e().value()).epsilon(1e-12));
  }
}

TEST_CASE("serving: bad scheduler settings and a model that does not fit are input errors") {
  Setup s;
  sim::SchedulerConfig cfg;
  cfg.max_num_seqs = 0;
  CHECK_THROWS_AS(s.run(cfg, same(1, 10, 2)), InputError);
  cfg = {};
  cfg.block_size = 0;
  CHECK_THROWS_AS(s.run(cfg, same(1, 10, 2)), InputError);
  cfg = {};
  cfg.step_overhead = Seconds(-1);
  CHECK_THROWS_AS(s.run(cfg, same(1, 10, 2)), InputError);
  cfg = {};
  cfg.kv_pool = Bytes(1e15);
  CHECK_THROWS_AS(s.run(cfg, same(1, 10, 2)), InputError);
  cfg = {};
  s.m = wl::resolve_model("llama-3.1-405b"); // 810 GB of BF16 weights on one 80 GB GPU
  CHECK_THROWS_AS(s.run(cfg, same(1, 10, 2)), InputError);
}

TEST_CASE("serving: a traced request longer than the model's positions is an input error") {
  Setup s; // dense-30b: max_position_embeddings 8192
  sim::SchedulerConfig cfg;
  // The deployment's static lengths are not the requests': 8000 + 1000 is no error here.
  s.d.input_len = 8000;
  s.d.output_len = 1000;
  CHECK(s.run(cfg, same(1, 100, 10)).requests[0].finish.value() > 0);
  CHECK_THROWS_WITH_AS(s.run(cfg, same(1, 8000, 300)),
                       doctest::Contains("max_position_embeddings"), InputError);
}

TEST_CASE("serving: a max-load run with reserved KV agrees with estimate's static batch") {
  // Both describe N equal requests at t = 0 with as many running as memory allows: estimate as a
  // static batch (all prefills, then all decode steps), serve step by step with chunked prefill.
  // They differ in how prefill and decode share steps and in the tail, not in the total work.
  const auto m = wl::resolve_model("llama-3.1-8b");
  const auto &gpu = h100();
  const auto eff = hw::builtin_efficiency(gpu);
  for (const auto &[in, out, n] : {std::tuple{128LL, 2048LL, 3000LL}, {2048LL, 128LL, 3000LL},
                                   {1000LL, 1000LL, 3000LL}}) {
    CAPTURE(in);
    CAPTURE(out);
    wl::Deployment d;
    d.weight_dtype = d.expert_dtype = d.act_dtype = d.kv_dtype = DType::fp8;
    d.input_len = in;
    d.output_len = out;
    sim::EstimateOptions o;
    o.reserve_fraction = 0.05;
    o.max_prefill_tokens = 8192;
    d.batch = std::min(n, sim::estimate_memory(gpu, m, d, o).max_batch);
    const auto c = hw::cluster_for_gpu(gpu, 1);
    const auto e = sim::estimate(gpu, m, d, eff, o, &c);
    sim::SchedulerConfig cfg;
    cfg.max_num_seqs = 8192;
    cfg.admission = sim::Admission::reserve;
    cfg.reserve_fraction = 0.05;
    const auto r = sim::simulate_serving(gpu, m, d, eff, c, cfg, same(n, in, out));
    CHECK(r.output_tokens_per_s == doctest::Approx(e.output_tokens_per_s).epsilon(0.02));
  }
}
