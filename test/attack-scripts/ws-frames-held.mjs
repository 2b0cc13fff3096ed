// Checks that held: oversized frames, fragmented messages past maxPayload, RSV1 (compressed) frames,
// and a permessage-deflate offer. usage: node test/attack-scripts/ws-frames-held.mjs <port>
import { WebSocket } from 'ws'
import net from 'node:net'
import crypto from 'node:crypto'
const port = process.argv[2]
const url = `ws://127.0.0.1:${port}/`
const closeOf = (ws) =>
  new Promise((r) => {
    ws.on('close', (code) => r(code))
    ws.on('error', () => undefined)
  })
let ws = new WebSocket(url, { perMessageDeflate: true })
await new Promise((r) => ws.once('open', r))
console.log('deflate offered; negotiated extensions:', JSON.stringify(ws.extensions) || '(none)')
ws.close()
ws = new WebSocket(url)
await new Promise((r) => ws.once('open', r))
ws.send('x'.repeat(100_000))
console.log('one 100 kB frame -> close code', await closeOf(ws))
ws = new WebSocket(url)
await new Promise((r) => ws.once('open', r))
for (let i = 0; i < 10; i++) ws.send('y'.repeat(1000), { fin: i === 9 })
console.log('10 fragments of 1 kB -> close code', await closeOf(ws))
// raw frame with RSV1 set (a compressed frame without the extension)
const s = net.connect(Number(port), '127.0.0.1')
s.write(
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
)
let got = Buffer.alloc(0)
s.on('data', (d) => (got = Buffer.concat([got, d])))
await new Promise((r) => setTimeout(r, 300))
console.log(
  'raw upgrade offering deflate, answer has extension header:',
  /sec-websocket-extensions/i.test(got.toString('latin1')),
)
const mask = crypto.randomBytes(4)
s.write(Buffer.concat([Buffer.from([0xc1, 0x85]), mask, Buffer.from([1, 2, 3, 4, 5].map((b, i) => b ^ mask[i % 4]))]))
await new Promise((r) => s.once('close', r))
const i = got.lastIndexOf(0x88)
console.log('RSV1 frame -> connection closed; close frame code', i >= 0 ? got.readUInt16BE(i + 2) : '(none)')
