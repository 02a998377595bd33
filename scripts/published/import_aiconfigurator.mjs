// Converts the kernel measurements that NVIDIA's AIConfigurator publishes for a GPU (collected
// inside vLLM or TensorRT-LLM, Apache-2.0) into a rooftop.calibration/1 file, so that `rooftop
// validate --calibration` and `rooftop calibrate --refit` treat them like a run of rooftop's own
// plan.
//
//   cd scripts/published && npm ci
//   node import_aiconfigurator.mjs --git-dir DIR --commit SHA --out FILE [--system h100_sxm]
//        [--framework vllm|trtllm]
//
// --system is AIConfigurator's name of the GPU (systems/data/<system>); the table below maps it
// to rooftop's catalogue id and the engine versions whose tables are read. --framework picks
// the engine the kernels were timed in (vllm by default).
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

// AIConfigurator system -> rooftop GPU (data/hardware/gpus/<gpu>.json: architecture, SMs),
// compute capability, the engine versions read (vLLM: the newest with both GEMM and attention
// tables; TensorRT-LLM: 1.3.0rc20, the only version whose attention tables were collected with
// the serving KV-cache layout, keys and values: the collector's older tables (1.0.0 to
// 1.3.0rc10) used a keys-only cache, CacheType.SELFKONLY, and read half the bytes, up to 1.7x
// the HBM bandwidth by their declared bytes; A100 has only 1.0.0: none taken), and the rooftop system
// (data/hardware/systems/) its all-reduce table was measured on (null: none taken, as for
// L40S, whose vLLM 0.24.0 has no all-reduce table and whose GPUs talk over PCIe).
const systems = {
  h100_sxm: { gpu: 'h100-sxm', sm_version: 90, vllm: '0.24.0', trtllm: '1.3.0rc20', device: 'NVIDIA H100 80GB HBM3', system: 'hgx-h100-8' },
  h200_sxm: { gpu: 'h200-sxm', sm_version: 90, vllm: '0.24.0', trtllm: '1.3.0rc20', device: 'NVIDIA H200', system: 'hgx-h200-8' },
  b200_sxm: { gpu: 'b200', sm_version: 100, vllm: '0.24.0', trtllm: '1.3.0rc20', device: 'NVIDIA B200', system: 'hgx-b200-8' },
  gb200: { gpu: 'gb200', sm_version: 100, vllm: '0.24.0', trtllm: '1.3.0rc20', device: 'NVIDIA GB200', system: 'gb200-nvl72' },
  l40s: { gpu: 'l40s', sm_version: 89, vllm: '0.24.0', trtllm: '1.3.0rc20', device: 'NVIDIA L40S', system: null },
  a100_sxm: { gpu: 'a100-sxm-80gb', sm_version: 80, vllm: '0.14.0', trtllm: null, device: 'NVIDIA A100-SXM4-80GB', system: 'hgx-a100-8' },
}
const sysName = args.system || 'h100_sxm'
const sys = systems[sysName]
if (!sys) { console.error(`unknown --system ${sysName}: one of ${Object.keys(systems).join(', ')}`); process.exit(2) }
const fw = args.framework || 'vllm'
if (!['vllm', 'trtllm'].includes(fw)) { console.error(`unknown --framework ${fw}: vllm or trtllm`); process.exit(2) }
const trt = fw === 'trtllm'
const version = sys[fw]
if (!version) { console.error(`--system ${sysName}: no ${fw} tables taken (see the table above)`); process.exit(2) }
const engine = trt ? `TensorRT-LLM ${version}` : `vLLM ${version}`
const spec = JSON.parse(fs.readFileSync(new URL(`../../data/hardware/gpus/${sys.gpu}.json`, import.meta.url)))

const root = `aic-core/src/aiconfigurator_core/systems/data/${sysName}`
const framework = `${fw}/${version}`
const paths = {
  gemm: `${root}/gemm/${framework}/gemm_perf.parquet`,
  decode: `${root}/attention/${framework}/generation_attention_perf.parquet`,
  prefill: `${root}/attention/${framework}/context_attention_perf.parquet`,
}
if (sys.system) paths.allreduce = `${root}/comm/${framework}/custom_allreduce_perf.parquet`

async function table(path) {
  const buf = execFileSync('git', ['--git-dir', args['git-dir'], 'show', `${args.commit}:${path}`],
                           { maxBuffer: 1 << 30 })
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  return parquetReadObjects({ file: ab, compressors })
}

// Declared work, as calibration/plan.cpp declare_work counts it (the loader checks it).
const elem = { bf16: 2, fp8: 1, fp4: 4.5 / 8 } // core/dtype.cpp dtype_storage_bytes
function gemmWork(c) {
  const out = c.dtype === 'fp4' ? elem.fp4 : 2 // as declare_work: BF16 out for FP8, else the input type
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
// TensorRT-LLM's tables name every kernel `torch_flow` (its Linear module: cuBLAS or its own
// GEMMs for BF16; per-tensor FP8 with the activation scale computed on the fly, as the
// collector's checkpoints carry no input scale; NVFP4).
const gemmDtype = trt ? {
  bfloat16: ['bf16', ['torch_flow']],
  fp8: ['fp8', ['torch_flow']],
  nvfp4: ['fp4', ['torch_flow']],
} : {
  bfloat16: ['bf16', ['torch.nn.functional.linear', 'vllm_default']],
  fp8: ['fp8', ['CutlassFP8ScaledMMLinearKernel']],
  nvfp4: ['fp4', ['FlashInferCuteDslNvFp4LinearKernel']], // NVFP4: rooftop's fp4
}
// Attention: FlashAttention-3 (vLLM's vllm_flash_attn), head_dim 128, no sliding window, the
// per-GPU head layouts of Llama-3.1-8B/70B/405B at TP 1 to 8 (and MHA 8/8, 32/32).
const layouts = new Set(['32/8', '16/4', '8/2', '4/1', '64/8', '32/4', '16/2', '8/1', '16/1', '8/8', '32/32'])

const ms = []
const kernelsSeen = new Set()
const byId = new Map()
let repeated = 0
function push(c, latency_ms, impl) {
  const t = latency_ms * 1e-3
  // A shape the table lists more than once (some older tables do): the mean of its times.
  const seen = byId.get(c.id)
  if (seen) {
    if (seen.implementation !== impl) { console.error(`${c.id}: two kernels (${seen.implementation}, ${impl})`); process.exit(1) }
    seen.sum += t
    seen.rows += 1
    seen.t = seen.sum / seen.rows
    repeated += 1
    return
  }
  const m = { ...c, implementation: impl, t, sum: t, rows: 1 }
  byId.set(c.id, m)
  ms.push(m)
}

// TensorRT-LLM's FP8 GEMM rows ran with dynamic activation quantization (the collector's
// checkpoints carry no input scale: collector/trtllm/collect_gemm.py), so each time includes
// the per-tensor scale computation, which a served FP8 checkpoint (ModelOpt: static scales)
// does not run. As AIConfigurator derives its fp8_static GEMMs (aic-core/rust/.../operators/
// gemm.rs, GEMM::query), the measured compute-scale time of the same M x K input
// (quantize/trtllm/<version>/computescale_perf.parquet: dynamic minus static quantization) is
// taken off each FP8 row. A row that this would put below its roofline (FLOPs at the dense FP8
// peak, bytes at the HBM bandwidth) is left out and counted.
let computeScale = null
let belowRoofline = 0
async function loadComputeScale() {
  paths.computescale = `${root}/quantize/${framework}/computescale_perf.parquet`
  computeScale = new Map()
  for (const r of await table(paths.computescale)) {
    if (r.device !== sys.device) { console.error(`${paths.computescale}: device ${r.device}, expected ${sys.device}`); process.exit(1) }
    if (r.quant_dtype !== 'fp8') continue
    computeScale.set(`${Number(r.m)}x${Number(r.k)}`, Number(r.latency))
  }
}
const fp8Peak = spec.dense_flops_per_s.fp8
const gemm = await table(paths.gemm)
if (trt && gemm.some(r => r.gemm_dtype === 'fp8')) await loadComputeScale()
for (const t of [gemm]) for (const r of t)
  if (r.device !== sys.device) { console.error(`${paths.gemm}: device ${r.device}, expected ${sys.device}`); process.exit(1) }
for (const r of gemm) {
  const d = gemmDtype[r.gemm_dtype]
  if (!d || !d[1].includes(r.kernel_source)) continue
  const m = Number(r.m), n = Number(r.n), k = Number(r.k)
  if (!gemmM.has(m) || !gemmNK.has(n) || !gemmNK.has(k)) continue
  const c = { id: `pub_gemm_${d[0]}_${m}x${n}x${k}`, kind: 'gemm', dtype: d[0], m, n, k }
  gemmWork(c)
  let ms = Number(r.latency)
  if (trt && d[0] === 'fp8') {
    const cs = computeScale.get(`${m}x${k}`)
    if (cs === undefined) { console.error(`${paths.computescale}: no fp8 row for M = ${m}, K = ${k}`); process.exit(1) }
    ms -= cs
    const roof = Math.max(c.flops / fp8Peak, c.bytes / spec.memory.bandwidth_Bps) * 1e3
    if (!(ms > roof)) { belowRoofline += 1; continue }
  }
  push(c, ms, trt ? `${engine} Linear (${d[0] === 'fp8' ? 'fp8, static scale: the dynamic time less the measured compute-scale time' : r.gemm_dtype})`
                  : `${engine} ${r.kernel_source}`)
}
for (const [key, phase] of [['decode', 'attention_decode'], ['prefill', 'attention_prefill']]) {
  for (const r of await table(paths[key])) {
    // The engine's attention kernel for the phase (FlashAttention-3 on Hopper, FlashAttention-2
    // on Ada and Ampere, FlashInfer's TensorRT-LLM kernels on Blackwell, FlashInfer for an FP8
    // cache on Ada); the prefill table also holds a few decode-kernel rows, left out.
    const ks = String(r.kernel_source)
    // TensorRT-LLM's attention backend (its own FMHA and XQA kernels) is `torch_flow`.
    const phaseKernel = trt ? ks === 'torch_flow' : ks.startsWith('vllm_flash_attn') ||
                        (key === 'decode' ? ks.includes('decode') : ks.includes('prefill'))
    if (!phaseKernel || Number(r.head_dim) !== 128 ||
        Number(r.window_size ?? 0) !== 0 || Number(r.beam_width) !== 1 || r.attn_dtype !== 'bfloat16') continue
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
    kernelsSeen.add(ks)
    push(c, Number(r.latency), trt ? `${engine} attention backend TRTLLM (paged KV cache)`
      : sysName === 'h100_sxm' ? `vLLM 0.24.0 ${r.kernel_source} (FlashAttention-3, paged KV cache, block 64)`
      : `${engine} ${r.kernel_source} (paged KV cache)`)
  }
}
// vLLM's tensor-parallel all-reduce (tensor_model_parallel_all_reduce: its custom all-reduce,
// or what vLLM falls back to for large buffers), BF16, captured in a CUDA graph as serving runs
// decode (collector/network/collect_all_reduce.py: 5 calls per graph, the time per call). Its
// message_size counts elements: 2 bytes each.
if (paths.allreduce) {
  for (const r of await table(paths.allreduce)) {
    if (r.device !== sys.device) { console.error(`${paths.allreduce}: device ${r.device}, expected ${sys.device}`); process.exit(1) }
    // vLLM's table has graph and eager rows (backend); TensorRT-LLM's only graph rows, its
    // AllReduce module with strategy AUTO (1.0.0's table has no implementation column).
    if ((trt ? (r.implementation ?? 'trtllm') !== 'trtllm' : r.backend !== 'vllm_graph') || r.allreduce_dtype !== 'bfloat16') continue
    const ranks = Number(r.num_gpus), bytes = 2 * Number(r.message_size)
    const c = { id: `pub_allreduce_${ranks}gpu_${bytes}`, kind: 'all_reduce', dtype: 'bf16', system: sys.system,
                ranks, message_bytes: bytes, flops: 0, bytes: 0 }
    push(c, Number(r.latency), trt ? `${engine} AllReduce (strategy AUTO), CUDA graph`
                                   : `${engine} tensor_model_parallel_all_reduce (${r.kernel_source}), CUDA graph`)
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
  else if (c.kind === 'all_reduce') Object.assign(j, { system: c.system, ranks: c.ranks, message_bytes: c.message_bytes })
  else Object.assign(j, { batch: c.batch, q_heads: c.q_heads, kv_heads: c.kv_heads, head_dim: c.head_dim,
                          latent_dim: c.latent_dim, context: c.context })
  Object.assign(j, { cold: false, flops: c.flops, bytes: c.bytes, skipped: false,
                     implementation: c.implementation, median_s: c.t, mean_s: c.t })
  measurements.push(j)
}
const allreduceSelection = paths.allreduce && trt
  ? `; TensorRT-LLM's BF16 tensor-parallel all-reduce (its AllReduce module, strategy AUTO, autotuner off) in a CUDA graph at every group size and message size the table has (message_size elements x 2 bytes)`
  : paths.allreduce
  ? `; vLLM's BF16 tensor-parallel all-reduce in a CUDA graph (backend vllm_graph) at every group size and message size the table has (message_size elements x 2 bytes)`
  : ''
const file = {
  schema: 'rooftop.calibration/1',
  gpu: sys.gpu,
  architecture: spec.architecture,
  meta: {
    command: `node scripts/published/import_aiconfigurator.mjs --git-dir DIR --commit ${args.commit} --out ${args.out}` +
             (sysName === 'h100_sxm' ? '' : ` --system ${sysName}`) + (trt ? ' --framework trtllm' : ''),
    date: new Date().toISOString().slice(0, 10),
  },
  published: {
    source: 'github.com/ai-dynamo/aiconfigurator',
    commit: args.commit,
    license: 'Apache-2.0',
    paths: Object.values(paths),
    collected_with: `${engine} on an ${sys.device} (the tables' device column), by the repository's collector/${fw}/collect_gemm.py and collect_attn.py` +
      (paths.allreduce ? `, and collector/network/collect_all_reduce.py (all-reduce, on ${sys.system}'s NVLink domain)` : ''),
    statistic: 'each time is the published latency: the mean over CUDA-graph replays after 3 warm-up runs (collector/helper.py benchmark_with_power: 6 replays by default; more, up to 3000, when the collector measured power, which the tables do not record); the L2 cache is not flushed between replays, and no spread is published. It is stored as both median_s and mean_s' +
      (paths.allreduce ? '. An all-reduce time is the CUDA-event time of 20 replays of a graph of 5 calls (after 3 warm-up replays; more replays, up to 1000, when the collector measured power), divided by the calls' : ''),
    selection: trt
      ? `GEMMs of TensorRT-LLM's Linear module (kernel_source torch_flow) in BF16, per-tensor FP8 with a static activation scale (each time is the table's, measured with dynamic quantization, less the compute-scale time of the same M x K input from quantize/trtllm/<version>/computescale_perf.parquet, as AIConfigurator derives fp8_static${belowRoofline ? `; ${belowRoofline} rows this put below their roofline are left out` : ''}) and NVFP4 (as fp4), each where the tables have it, with M in {1..16384} (27 values) and N, K in {1024, 2048, 4096, 6144, 8192, 16384}; TensorRT-LLM's attention backend (TRTLLM: its FMHA and XQA kernels) for decode with BF16 and FP8 KV cache and causal prefill with BF16, head_dim 128, no window, head layouts q/kv in {32/8, 16/4, 8/2, 4/1, 64/8, 32/4, 16/2, 8/1, 16/1, 8/8, 32/32}; decode context = step + 1 (the tables' step counts the cached keys). Each attention time includes the write of the new keys into the KV cache (the attention op appends them)` + allreduceSelection +
        (repeated ? `. ${repeated} rows repeat a shape already listed; each such shape's time is the mean of its rows` : '')
      : sysName === 'h100_sxm'
      ? 'BF16 (torch F.linear) and per-tensor FP8 (CutlassFP8ScaledMMLinearKernel) GEMMs with M in {1..16384} (27 values) and N, K in {1024, 2048, 4096, 6144, 8192, 16384}; FlashAttention-3 decode (BF16 and FP8 KV cache) and causal prefill (BF16) attention, head_dim 128, no window, head layouts q/kv in {32/8, 16/4, 8/2, 4/1, 64/8, 32/4, 16/2, 8/1, 16/1, 8/8, 32/32}; decode context = step + 1 (the tables\' step counts the cached keys). Each attention time includes vLLM\'s KV-cache write of the new keys' + allreduceSelection
      : `GEMMs in BF16 (torch F.linear), per-tensor FP8 (CutlassFP8ScaledMMLinearKernel) and NVFP4 (FlashInferCuteDslNvFp4LinearKernel, as fp4), each where the tables have it, with M in {1..16384} (27 values) and N, K in {1024, 2048, 4096, 6144, 8192, 16384}; the engine's decode and prefill attention kernels (${[...kernelsSeen].sort().join(', ')}), decode with BF16 and FP8 KV cache, causal prefill with BF16, head_dim 128, no window, head layouts q/kv in {32/8, 16/4, 8/2, 4/1, 64/8, 32/4, 16/2, 8/1, 16/1, 8/8, 32/32}; decode context = step + 1 (the tables' step counts the cached keys). Each attention time includes vLLM's KV-cache write of the new keys` + allreduceSelection +
        (repeated ? `. ${repeated} rows repeat a shape already listed; each such shape's time is the mean of its rows` : ''),
  },
  device: { backend: 'published', name: sys.device, sm_version: sys.sm_version, sm_count: spec.sm_count },
  measurements,
}
// Two-space indent, one measurement per line (about 2 MB; diffs stay readable).
const head = JSON.stringify({ ...file, measurements: [] }, null, 2).replace(/"measurements": \[\]\n}$/, '')
fs.writeFileSync(args.out, head + '"measurements": [\n' +
  measurements.map(m => '    ' + JSON.stringify(m)).join(',\n') + '\n  ]\n}\n')
const count = {}
for (const m of measurements) count[`${m.kind} ${m.dtype}`] = (count[`${m.kind} ${m.dtype}`] || 0) + 1
console.log(args.out, measurements.length, 'measurements', JSON.stringify(count))
