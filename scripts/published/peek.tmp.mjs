import { parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { execFileSync } from 'node:child_process'
const [repo, path] = [process.argv[2], process.argv[3]]
const buf = execFileSync('git', ['-C', repo, 'show', `HEAD:${path}`], { maxBuffer: 1 << 30 })
const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
const rows = await parquetReadObjects({ file, compressors })
const lim = Number(process.argv[4] || 20)
console.log(rows.length, Object.keys(rows[0]))
for (const r of rows.slice(0, lim)) console.log(JSON.stringify(r, (k, v) => typeof v === 'bigint' ? Number(v) : v))
