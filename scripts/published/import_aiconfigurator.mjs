// Converts the H100 SXM kernel measurements that NVIDIA's AIConfigurator publishes (collected
// with vLLM, Apache-2.0) into a rooftop.calibration/1 file, so that `rooftop validate
// --calibration` and `rooftop calibrate --refit` treat them like a run of rooftop's own plan.
//
//   cd scripts/published && npm ci
//   node import_aiconfigurator.mjs --git-dir DIR --commit SHA --out FILE
//
// DIR is a clone (or bare mirror) of github.com/ai-dynamo/aiconfigurator; the parquet tables
// are read from SHA with `git show`, so the result depends only on that commit.
// docs/calibration.md ("Published measurements") says what is taken and why.
import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

const args = {}
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1]
for (const k of ['git-dir', 'commit', 'out'])
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2) }

const root = 'aic-core/src/aiconfigurator_core/systems/data/h100_sxm'
const framework = 'vllm/0.24.0'
const paths = {
  gemm: `${root}/gemm/${framework}/gemm_perf.parquet`,
  decode: `${root}/attention/${framework}/generation_attention_perf.parquet`,
  prefill: `${root}/attention/${framework}/context_attention_perf.parquet`,
}

async function table(path) {
  const buf = execFileSync('git', ['--git-dir', args['git-dir'], 'show', `${args.commit}:${path}`],
                           { maxBuffer: 1 << 30 })
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  return parquetReadObjects({ file: ab, compressors })
}

// Declared work, as calibration/plan.cpp declare_work counts it (the loader checks it).
const elem = { bf16: 2, fp8: 1 }
function gemmWork(c) {
  const out = 2 // BF16 output, also for FP8 inputs
  c.flops = 2 * c.m * c.n * c.k
  c.bytes = (c.m * c.k + c.k * c.n) * elem[c.dtype] + c.m * c.n * out
}
function decodeWork(c) {
  const b = elem[c.dtype]
  c.flops = 2 * c.batch * c.q_heads * 2 * c.head_dim * c.context
  c.bytes = c.batch * c.context * 2 * c.kv_heads * c.head_dim * b + 2 * c.batch * c.q_heads * c.head_dim * b
}
function prefillWork(c) {
  const b = elem[c.dtype], s = c.context
  c.flops = 2 * c.batch * c.q_heads * 2 * c.head_dim * s * (s + 1) / 2
  c.bytes = c.batch * s * (2 * c.q_heads + 2 * c.kv_heads) * c.head_dim * b
}

// What is taken (a subset that keeps the file near 2 MB and covers the shapes rooftop's
// presets produce):
// GEMMs: BF16 (torch F.linear, cuBLAS) and per-tensor FP8 (CUTLASS scaled_mm) over M from 1 to
// 16384 (powers of two, three between them, and six one-past-a-tile rows) and N, K each in
// 1024..16384.
const gemmM = new Set([1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 129, 192, 256, 257, 512, 513, 768,
  1024, 1025, 1536, 2048, 2049, 3072, 4096, 4097, 8192, 16384])
const gemmNK = new Set([1024, 2048, 4096, 6144, 8192, 16384])
const gemmDtype = { bfloat16: ['bf16', 'torch.nn.functional.linear'], fp8: ['fp8', 'CutlassFP8ScaledMMLinearKernel'] }
// Attention: FlashAttention-3 (vLLM's vllm_flash_attn), head_dim 128, no sliding window, the
// per-GPU head layouts of Llama-3.1-8B/70B/405B at TP 1 to 8 (and MHA 8/8, 32/32).
const layouts = new Set(['32/8', '16/4', '8/2', '4/1', '64/8', '32/4', '16/2', '8/1', '16/1', '8/8', '32/32'])

const ms = []
function push(c, latency_ms, impl) {
  const t = latency_ms * 1e-3
  ms.push({ ...c, implementation: impl, t })
}

const gemm = await table(paths.gemm)
for (const r of gemm) {
  const d = gemmDtype[r.gemm_dtype]
  if (!d || r.kernel_source !== d[1]) continue
  const m = Number(r.m), n = Number(r.n), k = Number(r.k)
  if (!gemmM.has(m) || !gemmNK.has(n) || !gemmNK.has(k)) continue
  const c = { id: `pub_gemm_${d[0]}_${m}x${n}x${k}`, kind: 'gemm', dtype: d[0], m, n, k }
  gemmWork(c)
  push(c, Number(r.latency), `vLLM 0.24.0 ${r.kernel_source}`)
}
for (const [key, phase] of [['decode', 'attention_decode'], ['prefill', 'attention_prefill']]) {
  for (const r of await table(paths[key])) {
    if (r.kernel_source !== 'vllm_flash_attn_fa3' || Number(r.head_dim) !== 128 ||
        Number(r.window_size) !== 0 || Number(r.beam_width) !== 1 || r.attn_dtype !== 'bfloat16') continue
    const q = Number(r.num_heads), kv = Number(r.num_key_value_heads)
    if (!layouts.has(`${q}/${kv}`)) continue
    const dtype = r.kv_cache_dtype === 'fp8' ? 'fp8' : r.kv_cache_dtype === 'bfloat16' ? 'bf16' : null
    if (!dtype) continue
    if (key === 'prefill' && dtype !== 'bf16') continue // an FP8 cache changes only the write
    const batch = Number(r.batch_size)
    // decode: `step` keys already cached plus the new token's (vLLM seq_lens = step + 1);
    // prefill: isl tokens, causal.
    const context = key === 'decode' ? Number(r.step) + 1 : Number(r.isl)
    const c = { id: `pub_attn_${key}_q${q}kv${kv}d128_${dtype}_b${batch}_ctx${context}`, kind: phase,
                dtype, batch, q_heads: q, kv_heads: kv, head_dim: 128, latent_dim: 0, context }
    ;(key === 'decode' ? decodeWork : prefillWork)(c)
    push(c, Number(r.latency), `vLLM 0.24.0 ${r.kernel_source} (FlashAttention-3, paged KV cache, block 64)`)
  }
}
ms.sort((a, b) => (a.kind + a.id).localeCompare(b.kind + b.id, 'en', { numeric: true }))
const seen = new Set()
const measurements = []
for (const c of ms) {
  if (seen.has(c.id)) { console.error(`duplicate ${c.id}`); process.exit(1) }
  seen.add(c.id)
  const j = { id: c.id, kind: c.kind, dtype: c.dtype }
  if (c.kind === 'gemm') Object.assign(j, { m: c.m, n: c.n, k: c.k })
  else Object.assign(j, { batch: c.batch, q_heads: c.q_heads, kv_heads: c.kv_heads, head_dim: c.head_dim,
                          latent_dim: c.latent_dim, context: c.context })
  Object.assign(j, { cold: false, flops: c.flops, bytes: c.bytes, skipped: false,
                     implementation: c.implementation, median_s: c.t, mean_s: c.t })
  measurements.push(j)
}
const file = {
  schema: 'rooftop.calibration/1',
  gpu: 'h100-sxm',
  architecture: 'hopper',
  meta: {
    command: `node scripts/published/import_aiconfigurator.mjs --git-dir DIR --commit ${args.commit} --out ${args.out}`,
    date: new Date().toISOString().slice(0, 10),
  },
  published: {
    source: 'github.com/ai-dynamo/aiconfigurator',
    commit: args.commit,
    license: 'Apache-2.0',
    paths: Object.values(paths),
    collected_with: 'vLLM 0.24.0 on an NVIDIA H100 80GB HBM3 (the tables\' device column), by the repository\'s collector/vllm/collect_gemm.py and collect_attn.py',
    statistic: 'each time is the published latency: the mean over CUDA-graph replays after 3 warm-up runs (collector/helper.py benchmark_with_power: 6 replays by default; more, up to 3000, when the collector measured power, which the tables do not record); the L2 cache is not flushed between replays, and no spread is published. It is stored as both median_s and mean_s',
    selection: 'BF16 (torch F.linear) and per-tensor FP8 (CutlassFP8ScaledMMLinearKernel) GEMMs with M in {1..16384} (27 values) and N, K in {1024, 2048, 4096, 6144, 8192, 16384}; FlashAttention-3 decode (BF16 and FP8 KV cache) and causal prefill (BF16) attention, head_dim 128, no window, head layouts q/kv in {32/8, 16/4, 8/2, 4/1, 64/8, 32/4, 16/2, 8/1, 16/1, 8/8, 32/32}; decode context = step + 1 (the tables\' step counts the cached keys). Each attention time includes vLLM\'s KV-cache write of the new keys',
  },
  device: { backend: 'published', name: 'NVIDIA H100 80GB HBM3', sm_version: 90, sm_count: 132 },
  measurements,
}
// Two-space indent, one measurement per line (about 2 MB; diffs stay readable).
const head = JSON.stringify({ ...file, measurements: [] }, null, 2).replace(/"measurements": \[\]\n}$/, '')
fs.writeFileSync(args.out, head + '"measurements": [\n' +
  measurements.map(m => '    ' + JSON.stringify(m)).join(',\n') + '\n  ]\n}\n')
const count = {}
for (const m of measurements) count[`${m.kind} ${m.dtype}`] = (count[`${m.kind} ${m.dtype}`] || 0) + 1
console.log(args.out, measurements.length, 'measurements', JSON.stringify(count))
