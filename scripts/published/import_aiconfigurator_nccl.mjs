// Converts the NCCL collective times that NVIDIA's AIConfigurator publishes for 8x H100 SXM
// (nccl-tests run by its collector/network/collect_nccl.py, NCCL 2.29.2) into rows of
// rooftop.nccl_published/1, for `rooftop validate --nccl-tests FILE` (a check, not a fit).
//
//   cd scripts/published && npm ci
//   node import_aiconfigurator_nccl.mjs --git-dir DIR --commit SHA --out FILE
import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

const args = {}
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1]
for (const k of ['git-dir', 'commit', 'out'])
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2) }

const path = 'aic-core/src/aiconfigurator_core/systems/data/h100_sxm/comm/nccl/2.29.2/nccl_perf.parquet'
const buf = execFileSync('git', ['--git-dir', args['git-dir'], 'show', `${args.commit}:${path}`], { maxBuffer: 1 << 30 })
const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), compressors })

// collect_nccl.py records message_size = nccl-tests size / bytes per element and latency = the
// out-of-place time column (us -> ms). nccl-tests' bus bandwidth: size / time x factor.
const ops = { all_reduce: 'all-reduce', all_gather: 'all-gather', reduce_scatter: 'reduce-scatter', alltoall: 'all-to-all' }
const factor = (op, n) => (op === 'all-reduce' ? 2 * (n - 1) / n : (n - 1) / n)
// Half-precision rows (the int8 ones repeat the sizes), nccl-tests sizes 8 KiB to 512 MiB by x16.
const sizes = new Set([8192, 131072, 2097152, 33554432, 536870912])
const out = []
for (const r of rows) {
  const op = ops[r.op_name]
  if (!op || r.nccl_dtype !== 'half' || r.device !== 'NVIDIA H100 80GB HBM3') continue
  const bytes = Number(r.message_size) * 2
  if (!sizes.has(bytes)) continue
  const n = Number(r.num_gpus), t = Number(r.latency) * 1e-3
  out.push({
    id: `aic-h100-${op}-${n}gpu-${bytes}`,
    system: 'hgx-h100-8',
    nodes: 1,
    ranks: n,
    op,
    size_bytes: bytes,
    busbw_Bps: Number((bytes / t * factor(op, n)).toPrecision(6)),
    kind: 'measured',
    fitted: false,
    source: `github.com/ai-dynamo/aiconfigurator @${args.commit.slice(0, 12)}, ${path} (nccl-tests ${r.op_name}_perf via collector/network/collect_nccl.py, NCCL ${r.version}, FP16, out-of-place time ${(t * 1e6).toPrecision(5)} us; busbw computed from it with nccl-tests' factor)`,
  })
}
out.sort((a, b) => a.op.localeCompare(b.op) || a.ranks - b.ranks || a.size_bytes - b.size_bytes)
const file = {
  schema: 'rooftop.nccl_published/1',
  description: `NCCL times on one HGX H100 (2, 4 and 8 GPUs) that NVIDIA's AIConfigurator publishes (Apache-2.0), converted by scripts/published/import_aiconfigurator_nccl.mjs --commit ${args.commit}. A check of rooftop collective: nothing is fitted to these rows.`,
  rows: out,
}
fs.writeFileSync(args.out, JSON.stringify(file, null, 2) + '\n')
console.log(args.out, out.length, 'rows')
