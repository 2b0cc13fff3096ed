import net from 'node:net'
import crypto from 'node:crypto'
const [port, n = '10', size = '125', op = '9'] = process.argv.slice(2)
function frame(opcode, payload) {
  const mask = crypto.randomBytes(4)
  const head = Buffer.from([0x80 | opcode, 0x80 | payload.length])
  return Buffer.concat([head, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]))])
}
const f = frame(Number(op), Buffer.alloc(Number(size), 0x41))
const s = net.connect(Number(port), '127.0.0.1')
s.write(
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
)
let got = 0,
  last
s.on('data', (d) => {
  if (got === 0) console.log(d.toString().split('\r\n')[0])
  got += d.length
  last = d
})
setTimeout(() => {
  s.write(Buffer.concat(Array(Number(n)).fill(f)))
}, 300)
setTimeout(() => {
  console.log('received bytes', got, 'destroyed', s.destroyed)
  s.destroy()
}, 2000)
s.on('close', () => console.log('closed, got', got, last.subarray(-40)))
s.on('error', (e) => console.log('err', e.message))
