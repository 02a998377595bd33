// `rooftop serve`: the JSON it prints, the per-request CSV, and its input errors.
#include "cli_runner.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using cli_test::Run;

Run rooftop(const std::vector<std::string> &args) {
  const cli_test::TempDir tmp;
  return cli_test::run_rooftop(args, tmp.path);
}

std::vector<std::string> serve(std::vector<std::string> extra) {
  std::vector<std::string> v{"serve", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                             "--weight-dtype", "fp8", "--kv-dtype", "fp8"};
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

nlohmann::json parse(const Run &r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

} // namespace

TEST_CASE("cli: serve --json: rooftop.serving/1 with its throughput and latency percentiles") {
  const auto j = parse(rooftop(serve({"--requests", "200", "--input-len", "512", "--output-len",
                                      "64", "--rate", "20", "--slo-ttft", "0.5", "--json"})));
  CHECK(j["schema"] == "rooftop.serving/1");
  CHECK(j["requests"] == 200);
  CHECK(j["scheduler"]["max_num_seqs"] == 256);
  CHECK(j["scheduler"]["admission"] == "on-demand");
  // Throughput is the output tokens over the makespan: 200 x 64 / makespan_s.
  CHECK(j["output_tokens_per_s"].get<double>() ==
        doctest::Approx(200 * 64 / j["makespan_s"].get<double>()).epsilon(1e-9));
  for (const char *k : {"ttft", "tpot", "e2e_latency"}) {
    INFO(k);
    const auto &s = j[k];
    CHECK(s["p50_s"].get<double>() > 0);
    CHECK(s["p50_s"].get<double>() <= s["p90_s"].get<double>());
    CHECK(s["p90_s"].get<double>() <= s["p99_s"].get<double>());
    CHECK(s["p99_s"].get<double>() <= s["max_s"].get<double>());
  }
  // Arrivals at 20/s over ~10 s: the run cannot end before the last arrival.
  CHECK(j["makespan_s"].get<double>() > 5.0);
  CHECK(j["slo"]["ttft_s"] == 0.5);
  const auto &mem = j["memory"];
  CHECK(mem["kv_pool_bytes_per_gpu"].get<double>() ==
        doctest::Approx(mem["capacity_bytes_per_gpu"].get<double>() -
                        mem["weights_bytes_per_gpu"].get<double>() -
                        mem["step_activation_bytes_per_gpu"].get<double>() -
                        mem["reserved_bytes_per_gpu"].get<double>())
            .epsilon(1e-12));
}

TEST_CASE("cli: serve goodput counts the requests within the SLO, as the per-request CSV shows") {
  const cli_test::TempDir tmp;
  const auto csv = (tmp.path / "r.csv").string();
  const std::vector<std::string> base{"--requests", "200", "--input-len", "512", "--output-len",
                                      "64", "--rate", "20", "--json"};
  auto args = serve(base);
  const auto j0 = parse(cli_test::run_rooftop(args, tmp.path));
  // The median TTFT as the objective splits the requests.
  const double slo = j0["ttft"]["p50_s"].get<double>();
  args.insert(args.end(), {"--slo-ttft", std::to_string(slo), "--requests-csv", csv});
  const auto j = parse(cli_test::run_rooftop(args, tmp.path));
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line); // header
  long long within = 0, rows = 0;
  while (std::getline(in, line)) {
    // request,replica,arrival_s,input_tokens,output_tokens,ttft_s,...: the sixth field
    std::size_t pos = 0;
    for (int f = 0; f < 5; ++f) pos = line.find(',', pos) + 1;
    within += std::stod(line.substr(pos)) <= std::stod(std::to_string(slo)) ? 1 : 0;
    ++rows;
  }
  CHECK(rows == 200);
  CHECK(j["requests_within_slo"].get<long long>() == within);
  CHECK(within > 0);
  CHECK(within < 200);
  CHECK(j["goodput_requests_per_s"].get<double>() ==
        doctest::Approx(static_cast<double>(within) / j["makespan_s"].get<double>()).epsilon(1e-9));
}

TEST_CASE("cli: serve --requests-csv writes one line per request and a workload file runs") {
  const cli_test::TempDir tmp;
  const auto csv = (tmp.path / "requests.csv").string();
  const auto wl = (tmp.path / "w.json").string();
  std::ofstream(wl) << R"({"schema": "rooftop.requests/1", "source": "test", "requests": [
    {"arrival_s": 0, "input_tokens": 100, "output_tokens": 10},
    {"arrival_s": 0.5, "input_tokens": 3000, "output_tokens": 1}]})";
  const Run r = cli_test::run_rooftop(serve({"--workload", wl, "--requests-csv", csv}), tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("2 requests from") != std::string::npos);
  const std::string text = cli_test::slurp(csv);
  CHECK(std::count(text.begin(), text.end(), '\n') == 3); // header + 2 requests
  CHECK(text.rfind("request,replica,arrival_s,", 0) == 0);
  CHECK(text.find("\n1,0,0.5,3000,1,") != std::string::npos);
}

TEST_CASE("cli: serve names a trace's requests by their place in the file, not by arrival") {
  const cli_test::TempDir tmp;
  const auto csv = (tmp.path / "requests.csv").string();
  const auto wl = (tmp.path / "w.json").string();
  // The second request arrives first: it is still request 1, in the CSV and in errors.
  std::ofstream(wl) << R"({"schema": "rooftop.requests/1", "requests": [
    {"arrival_s": 1.0, "input_tokens": 100, "output_tokens": 10},
    {"arrival_s": 0.0, "input_tokens": 3000, "output_tokens": 1}]})";
  const Run r = cli_test::run_rooftop(serve({"--workload", wl, "--requests-csv", csv}), tmp.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string text = cli_test::slurp(csv);
  CHECK(text.find("\n0,0,1,100,10,") != std::string::npos);
  CHECK(text.find("\n1,0,0,3000,1,") != std::string::npos);
  // llama-3.1-8b has 131,072 positions: /requests/1 asks for 131,000 + 100.
  const auto bad = (tmp.path / "bad.json").string();
  std::ofstream(bad) << R"({"schema": "rooftop.requests/1", "requests": [
    {"arrival_s": 1.0, "input_tokens": 100, "output_tokens": 10},
    {"arrival_s": 0.0, "input_tokens": 131000, "output_tokens": 100}]})";
  cli_test::expect_one_error(cli_test::run_rooftop(serve({"--workload", bad}), tmp.path), 2,
                             {bad, "/requests/1", "max_position_embeddings"});
}

TEST_CASE("cli: one-token requests have no TPOT: null in JSON, none in text, empty in CSV") {
  const cli_test::TempDir tmp;
  const auto csv = (tmp.path / "requests.csv").string();
  const auto j = parse(cli_test::run_rooftop(
      serve({"--requests", "2", "--output-len", "1", "--json", "--requests-csv", csv}), tmp.path));
  CHECK(j["tpot"].is_null());
  CHECK(j["ttft"]["p50_s"].get<double>() > 0);
  // request,replica,arrival_s,input_tokens,output_tokens,ttft_s,tpot_s,...: tpot_s is empty.
  CHECK(cli_test::slurp(csv).find("\n0,0,0,1024,1,") != std::string::npos);
  CHECK(cli_test::slurp(csv).find(",,") != std::string::npos);
  const Run text = rooftop(serve({"--requests", "2", "--output-len", "1"}));
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("TPOT  none") != std::string::npos);
}

TEST_CASE("cli: serve's memory errors print sizes as NNNe9 bytes, whatever their size") {
  // 1e12 tokens of activations: 94,208,000e9 bytes, once printed as "9.421e+07e9".
  const Run huge = rooftop(serve({"--requests", "1", "--max-num-batched-tokens", "1000000000000"}));
  cli_test::expect_one_error(huge, 2, {"does not fit", "94208000e9 bytes"});
  CHECK(huge.err.find("e+") == std::string::npos);
  const Run pool = rooftop(serve({"--requests", "1", "--kv-pool", "1TB"}));
  cli_test::expect_one_error(pool, 2, {"--kv-pool = 1000e9 bytes"});
  // 1024 + 255 cached tokens x 65,536 B (FP8 KV) = 80 blocks of 16 = 83,886,080 B > 1 MiB.
  cli_test::expect_one_error(rooftop(serve({"--requests", "1", "--kv-pool", "1MiB"})), 2,
                             {"83886080 bytes", "KV pool of 0.001049e9 bytes per GPU (--kv-pool)"});
  // Under 1e5 bytes the size is whole bytes: 1 byte once read "1e-09e9 bytes".
  const Run tiny = rooftop(serve({"--requests", "1", "--kv-pool", "1B"}));
  cli_test::expect_one_error(tiny, 2, {"83886080 bytes", "KV pool of 1 bytes per GPU (--kv-pool)"});
  CHECK(tiny.err.find("e-") == std::string::npos);
  cli_test::expect_one_error(rooftop(serve({"--requests", "1", "--kv-pool", "64KiB"})), 2,
                             {"KV pool of 65536 bytes per GPU (--kv-pool)"});
}

TEST_CASE("cli: a trace runs on a model shorter than the unused --input-len + --output-len") {
  const cli_test::TempDir tmp;
  // 1024 positions, under the 1024 + 256 defaults that a trace does not use.
  const auto model = (tmp.path / "short.config.json").string();
  std::ofstream(model) << R"({"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
    "vocab_size": 100, "max_position_embeddings": 1024, "torch_dtype": "bfloat16"})";
  const auto wl = (tmp.path / "w.json").string();
  std::ofstream(wl) << R"({"schema": "rooftop.requests/1", "requests": [
    {"arrival_s": 0, "input_tokens": 500, "output_tokens": 100}]})";
  const Run r = cli_test::run_rooftop(
      {"serve", "--model", model, "--gpu", "h100-sxm", "--workload", wl}, tmp.path);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // Generated requests still name the options that make them too long.
  cli_test::expect_one_error(
      cli_test::run_rooftop({"serve", "--model", model, "--gpu", "h100-sxm", "--input-len", "1000",
                             "--output-len", "100"},
                            tmp.path),
      2, {"--input-len + --output-len = 1100", "max_position_embeddings"});
}

TEST_CASE("cli: serve refuses bad input with one error line") {
  cli_test::expect_one_error(rooftop(serve({"--batch", "8"})), 2, {"--batch", "serve"});
  cli_test::expect_one_error(rooftop(serve({"--rate", "-1"})), 2, {"--rate"});
  cli_test::expect_one_error(rooftop(serve({"--rate", "0"})), 2, {"--rate"});
  cli_test::expect_one_error(rooftop(serve({"--requests", "0"})), 2, {"--requests"});
  cli_test::expect_one_error(rooftop(serve({"--max-num-seqs", "0"})), 2, {"--max-num-seqs"});
  cli_test::expect_one_error(rooftop(serve({"--admission", "lazy"})), 2,
                             {"--admission", "on-demand", "reserve"});
  cli_test::expect_one_error(rooftop(serve({"--slo-tpot", "0"})), 2, {"--slo-tpot"});
  // The same range as plan's: [1e-6, 1e6] s.
  for (const char *option : {"--slo-ttft", "--slo-tpot"})
    for (const char *v : {"1e300", "1000001", "0", "-1", "inf", "1e-320", "9e-7"})
      cli_test::expect_one_error(rooftop(serve({"--requests", "1", option, v})), 2,
                                 {std::string(option) + " = ", "[1e-6, 1e6] s"});
  CHECK(rooftop(serve({"--requests", "1", "--slo-ttft", "1e6", "--slo-tpot", "1e6"})).exit_code ==
        0);
  // CLI11 alone wraps -1 to 2^64 - 1 for an unsigned option and clamps an integer too large.
  cli_test::expect_one_error(rooftop(serve({"--seed", "-1"})), 2, {"--seed"});
  cli_test::expect_one_error(rooftop(serve({"--seed", "18446744073709551616"})), 2, {"--seed"});
  cli_test::expect_one_error(rooftop(serve({"--max-num-seqs", "99999999999999999999"})), 2,
                             {"--max-num-seqs"});
  cli_test::expect_one_error(rooftop(serve({"--max-num-batched-tokens", "99999999999999999999"})),
                             2, {"--max-num-batched-tokens"});
  cli_test::expect_one_error(rooftop(serve({"--kv-pool", "1PB"})), 2, {"--kv-pool"});
  // Refused as what it is, with or without stages (it once read "--cp 2 exceeds the 1-token
  // prompt it splits", whatever --input-len was).
  for (const char *pp : {"1", "2"}) {
    const Run cp = rooftop(serve({"--cp", "2", "--pp", pp, "--requests", "1"}));
    cli_test::expect_one_error(cp, 2, {"--cp 2", "does not model context parallelism"});
    CHECK(cp.err.find("prompt") == std::string::npos);
  }
  cli_test::expect_one_error(rooftop(serve({"--workload", "/nonexistent/w.json"})), 2,
                             {"/nonexistent/w.json"});
  cli_test::expect_one_error(rooftop(serve({"--workload", "/nonexistent/w.json", "--rate", "2"})),
                             2, {"--rate", "--workload"});
  // 100,000 + 256 tokens of FP8 KV: 32 layers x 2 x 8 heads x 128 x 1 B = 65,536 B per token,
  // 6.6 GB, against a 1 GiB pool.
  cli_test::expect_one_error(rooftop(serve({"--requests", "1", "--input-len", "100000",
                                            "--kv-pool", "1GiB"})),
                             2, {"request 0", "KV pool"});
  cli_test::expect_one_error(rooftop(serve({"--requests", "1", "--input-len", "1000000"})), 2,
                             {"max_position_embeddings"});
  // 810 GB of BF16 weights on one 85.5 GB GPU.
  cli_test::expect_one_error(
      rooftop({"serve", "--model", "llama-3.1-405b", "--gpu", "h100-sxm"}), 2, {"does not fit"});
}

TEST_CASE("cli: plan --json ranks the candidates and names why the others cannot run") {
  const auto j = parse(rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm,l40s",
                                "--tp", "1,2", "--weight-dtype", "fp8", "--kv-dtype", "fp8",
                                "--rate", "5", "--requests", "200", "--slo-ttft", "0.5",
                                "--price", "h100-sxm=2", "--json"}));
  CHECK(j["schema"] == "rooftop.plan/1");
  CHECK(j["objective"]["percentile"] == 90);
  const auto &c = j["candidates"];
  REQUIRE(c.size() == 4);
  bool seen_infeasible = false;
  for (const auto &row : c) {
    if (!row["feasible"].get<bool>()) seen_infeasible = true;
    else CHECK_FALSE(seen_infeasible); // feasible rows first
    if (row["feasible"].get<bool>()) {
      CHECK(row["gpus"].get<long long>() == row["tp"].get<long long>() * row["dp"].get<long long>());
      CHECK(row["ttft_s"].get<double>() <= 0.5);
    }
  }
}

TEST_CASE("cli: plan with one-token requests prints no TPOT (null, '-'), as serve does") {
  const std::vector<std::string> a{"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp",
                                   "1", "--rate", "5", "--requests", "100", "--output-len", "1",
                                   "--slo-ttft", "1"};
  auto with_json = a;
  with_json.push_back("--json");
  const auto j = parse(rooftop(with_json));
  REQUIRE(j["candidates"].size() == 1);
  REQUIRE(j["candidates"][0]["feasible"].get<bool>());
  CHECK(j["candidates"][0]["tpot_s"].is_null());
  const auto r = rooftop(a);
  CHECK(r.exit_code == 0);
  // gpu, tp, ep, pp, dp, gpus, TTFT (value and unit), then TPOT: '-'
  std::istringstream text(r.out);
  std::string line, last;
  while (std::getline(text, line)) last = line;
  std::istringstream row(last);
  std::vector<std::string> f;
  for (std::string w; row >> w;) f.push_back(w);
  REQUIRE(f.size() > 8);
  CHECK(f[0] == "h100-sxm");
  CHECK(f[8] == "-");
}

TEST_CASE("cli: plan refuses bad input with one error line") {
  const std::vector<std::string> base{"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm",
                                      "--rate", "5", "--slo-ttft", "1"};
  const auto with = [&](std::vector<std::string> extra) {
    auto v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return rooftop(v);
  };
  cli_test::expect_one_error(with({"--price", "h100-sxm"}), 2, {"--price", "GPU=USD"});
  cli_test::expect_one_error(with({"--price", "h100-sxm=-1"}), 2, {"--price"});
  cli_test::expect_one_error(with({"--price", "h100-sxm=1e308"}), 2, {"--price", "10000"});
  cli_test::expect_one_error(with({"--price", "h100-sxm=1e-300"}), 2, {"--price", "0.001"});
  cli_test::expect_one_error(with({"--price", "b200=3"}), 2, {"--price", "b200"});
  cli_test::expect_one_error(with({"--percentile", "95"}), 2, {"--percentile"});
  cli_test::expect_one_error(with({"--tp", "0"}), 2, {"--tp"});
  cli_test::expect_one_error(with({"--gpu", "h900"}), 2, {"h900"});
  cli_test::expect_one_error(with({"--input-len", "0"}), 2, {"--input-len"});
  cli_test::expect_one_error(with({"--requests", "0"}), 2, {"--requests"});
  cli_test::expect_one_error(with({"--ep", "tp"}), 2, {"--ep", "no experts"});
  cli_test::expect_one_error(with({"--ep", "2"}), 2, {"--ep", "expected 1"});
  cli_test::expect_one_error(with({"--pp", "0"}), 2, {"--pp"});
  cli_test::expect_one_error(with({"--engine", "sglang"}), 2, {"--engine", "vllm or trtllm"});
  // A list value past the integer range is named as given, not as CLI11 clamps it (2^63 - 1).
  for (const char *option : {"--tp", "--pp"}) {
    const Run r = with({option, "1,99999999999999999999"});
    cli_test::expect_one_error(r, 2, {option, "99999999999999999999"});
    CHECK(r.err.find("9223372036854775807") == std::string::npos);
  }
  cli_test::expect_one_error(rooftop({"plan", "--model", "llama-3.1-8b", "--rate", "5"}), 2,
                             {"--slo-ttft"});
  // Latency objectives lie in [1e-6, 1e6] s: --slo-ttft 1e300 once printed a 301-digit objective.
  for (const char *option : {"--slo-ttft", "--slo-tpot"})
    for (const char *v : {"1e300", "1000001", "0", "-1", "inf", "1e-320", "9e-7"}) {
      std::vector<std::string> args{"plan",   "--model", "llama-3.1-8b", "--gpu",
                                    "h100-sxm", "--rate",  "5",            option, v};
      if (std::string(option) != "--slo-ttft") args.insert(args.end(), {"--slo-ttft", "1"});
      cli_test::expect_one_error(rooftop(args), 2, {option, "[1e-6, 1e6] s"});
    }
}

TEST_CASE("cli: plan --engine plans with that engine's tables and says so") {
  const std::vector<std::string> base{"plan", "--model", "llama-3.1-70b", "--gpu", "h100-sxm",
                                      "--tp", "4", "--rate", "2", "--requests", "100",
                                      "--slo-ttft", "5", "--json"};
  const auto with = [&](std::vector<std::string> extra) {
    auto v = base;
    v.insert(v.end(), extra.begin(), extra.end());
    return parse(rooftop(v));
  };
  const auto v = with({});
  const auto t = with({"--engine", "trtllm"});
  CHECK(v.at("engine") == "vllm");
  CHECK(t.at("engine") == "trtllm");
  REQUIRE(v.at("candidates").size() == 1);
  REQUIRE(t.at("candidates").size() == 1);
  // Another table: another TTFT at the objective's percentile.
  CHECK(t.at("candidates")[0].at("ttft_s") != v.at("candidates")[0].at("ttft_s"));
  // A GPU without a table of that engine is not planned on the derated defaults: its row says why.
  const auto a = parse(rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm,a100-sxm-80gb",
                                "--tp", "1", "--rate", "2", "--requests", "100", "--slo-ttft", "5",
                                "--engine", "trtllm", "--json"}));
  REQUIRE(a.at("candidates").size() == 2);
  for (const auto &c : a.at("candidates")) {
    INFO(c.dump());
    if (c.at("gpu") == "a100-sxm-80gb") {
      CHECK(c.at("feasible") == false);
      CHECK(c.at("reason").get<std::string>().find("no table of that engine's kernels for "
                                                   "a100-sxm-80gb") != std::string::npos);
    } else {
      CHECK(c.at("feasible") == true);
    }
  }
  const Run text = rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp", "1",
                            "--rate", "2", "--requests", "100", "--slo-ttft", "5", "--engine",
                            "trtllm"});
  CHECK(text.out.find("efficiency tables: --engine trtllm") != std::string::npos);
}

TEST_CASE("cli: plan plans a GPU or TP given twice once, and marks preliminary GPU figures") {
  const Run r = rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "rubin,rubin,h100-sxm",
                         "--tp", "1,1", "--rate", "5", "--requests", "100", "--slo-ttft", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("rubin*") != std::string::npos);
  CHECK(r.out.find("h100-sxm*") == std::string::npos);
  CHECK(r.out.find("preliminary figures") != std::string::npos);
  const auto j = parse(rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "rubin,rubin,h100-sxm",
                                "--tp", "1,1", "--rate", "5", "--requests", "100", "--slo-ttft",
                                "1", "--json"}));
  REQUIRE(j["candidates"].size() == 2);
  for (const auto &c : j["candidates"])
    CHECK(c["preliminary_gpu_figures"].get<bool>() == (c["gpu"] == "rubin"));
}

TEST_CASE("cli: plan tries experts split by TP and whole experts per GPU for a model with experts") {
  const auto j = parse(rooftop({"plan", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--tp",
                                "1,2,8", "--weight-dtype", "fp8", "--kv-dtype", "fp8", "--rate",
                                "5", "--requests", "100", "--slo-ttft", "1", "--json"}));
  // TP 1 once (both modes are the same deployment), TP 2 and 8 with ep 1 and ep = tp.
  const auto &c = j["candidates"];
  REQUIRE(c.size() == 5);
  int whole = 0;
  for (const auto &row : c) {
    const auto tp = row["tp"].get<long long>(), ep = row["ep"].get<long long>();
    CHECK((ep == 1 || ep == tp));
    if (ep > 1) ++whole;
  }
  CHECK(whole == 2);
  // --ep 1 alone keeps the split mapping only; a dense model has only that one.
  const auto one = parse(rooftop({"plan", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--tp",
                                  "2", "--ep", "1", "--weight-dtype", "fp8", "--rate", "5",
                                  "--requests", "100", "--slo-ttft", "1", "--json"}));
  REQUIRE(one["candidates"].size() == 1);
  CHECK(one["candidates"][0]["ep"] == 1);
  // --ep tp alone still plans TP 1, where whole experts and experts split by TP are one mapping
  // (it once left TP 1 out, and --tp 1 --ep tp had no candidate at all).
  for (const char *tps : {"1", "1,2"}) {
    const auto by_tp = parse(rooftop({"plan", "--model", "mixtral-8x7b", "--gpu", "h100-sxm",
                                      "--tp", tps, "--ep", "tp", "--weight-dtype", "fp8",
                                      "--rate", "5", "--requests", "100", "--slo-ttft", "1",
                                      "--json"}));
    REQUIRE(by_tp["candidates"].size() == std::string(tps).size() / 2 + 1);
    for (const auto &row : by_tp["candidates"]) CHECK(row["ep"] == row["tp"]);
  }
  const auto dense = parse(rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp",
                                    "2", "--rate", "5", "--requests", "100", "--slo-ttft", "1",
                                    "--json"}));
  CHECK(dense["candidates"].size() == 1);
  // --pp adds pipeline stages: each candidate's GPUs are tp x pp x dp.
  const auto piped = parse(rooftop({"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--tp",
                                    "2", "--pp", "1,2", "--rate", "5", "--requests", "100",
                                    "--slo-ttft", "1", "--json"}));
  REQUIRE(piped["candidates"].size() == 2);
  for (const auto &row : piped["candidates"]) {
    REQUIRE(row["feasible"].get<bool>());
    CHECK(row["gpus"].get<long long>() ==
          2 * row["pp"].get<long long>() * row["dp"].get<long long>());
  }
}

TEST_CASE("cli: serve runs pipeline stages: pp schedulers, the binding stage's memory") {
  const auto j = parse(rooftop(serve({"--tp", "1", "--pp", "2", "--gpus", "2", "--requests", "50",
                                      "--rate", "5", "--json"})));
  CHECK(j["mapping"]["pp"] == 2);
  CHECK(j["gpus"] == 2);
  const auto stage = j["memory"]["pipeline_stage"].get<long long>();
  CHECK((stage == 0 || stage == 1));
  CHECK(j["ttft"]["p50_s"].get<double>() > 0);
  const auto r = rooftop(serve({"--tp", "1", "--pp", "2", "--gpus", "2", "--requests", "50",
                                "--rate", "5"}));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("PP=2") != std::string::npos);
  CHECK(r.out.find("pipeline: 2 stages") != std::string::npos);
  // The peak KV use and the running count are one scheduler's (JSON's peak_kv_fraction and
  // max_running), and the text says so rather than read as the replica's whole pool.
  CHECK(r.out.find("% of one scheduler's 1/2)") != std::string::npos);
  CHECK(r.out.find("at most " + std::to_string(j["max_running"].get<long long>()) +
                   " running in one scheduler") != std::string::npos);
}
