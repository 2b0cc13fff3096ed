// Standalone check of the suggested fix for H3-1 (not product code): ws servers broadcasting a ~1 MB event
// to N clients that never read, as a string per client (what api/ws-stream.ts does) or as one shared Buffer.
// usage: node test/attack-scripts/ws-string-vs-buffer.mjs string|buffer [clients=150] [events=3]
import { WebSocketServer } from 'ws'
import net from 'node:net'
import crypto from 'node:crypto'
import fs from 'node:fs'
const [mode = 'string', n = '150', events = '3'] = process.argv.slice(2)
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024
const wss = new WebSocketServer({ port: 0, perMessageDeflate: false })
await new Promise((r) => wss.once('listening', r))
const port = wss.address().port
const socks = []
for (let i = 0; i < Number(n); i++) {
  const s = net.connect(port, '127.0.0.1')
  s.write(
    `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await new Promise((r) => s.once('data', r))
  s.pause()
  socks.push(s)
}
const text = JSON.stringify({ type: 'message:signed', data: { body: '\u0001'.repeat(170_000) } })
global.gc?.()
console.log(`${mode}: ${n} clients connected, RSS ${rss().toFixed(0)} MB; event ${(text.length / 1e6).toFixed(2)} MB`)
for (let e = 0; e < Number(events); e++) {
  const payload = mode === 'buffer' ? Buffer.from(text) : text
  for (const c of wss.clients) c.send(payload)
  await new Promise((r) => setTimeout(r, 500))
  console.log(
    `${mode}: after event ${e + 1}: RSS ${rss().toFixed(0)} MB, bufferedAmount of one client ${[...wss.clients][0].bufferedAmount}`,
  )
}
process.exit(0)
