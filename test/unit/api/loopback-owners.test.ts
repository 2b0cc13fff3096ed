// Who is behind a loopback connection (api/loopback-owners.ts, docs/protocol.md §8 "Rate limit"): the
// kernel's socket table names the uid that owns the caller's socket, one table read serves every lookup
// waiting at once, and anything unclear (no table, no entry, two sockets with the same ends) names nobody.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { LoopbackOwners } from '../../../api/loopback-owners.js'

const servers: Server[] = []
const sockets: Socket[] = []

/** `count` connections to a fresh loopback server; the server's end of each. */
async function accepted(count: number, host = '127.0.0.1'): Promise<Socket[]> {
  const ends: Socket[] = []
  const server = createServer((s) => ends.push(s))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const { port } = server.address() as { port: number }
  for (let i = 0; i < count; i++) {
    const s = connect(port, host)
    sockets.push(s)
    await new Promise<void>((resolve) => s.once('connect', () => resolve()))
  }
  while (ends.length < count) await new Promise((r) => setTimeout(r, 5))
  sockets.push(...ends)
  return ends
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

const linux = process.platform === 'linux'

describe.skipIf(!linux)('the owner of a loopback caller', () => {
  it("names this process's uid for its own connections, over IPv4 and IPv6", async () => {
    const owners = new LoopbackOwners()
    for (const host of ['127.0.0.1', '::1']) {
      const [end] = await accepted(1, host)
      expect(await owners.uidOf(end!)).toBe(process.getuid!())
    }
  })

  it('reads the tables once for all the lookups waiting at the same time, and once per socket', async () => {
    const reads: string[] = []
    const owners = new LoopbackOwners((path) => {
      reads.push(path)
      return readFile(path, 'utf8')
    })
    const ends = await accepted(20)
    const uids = await Promise.all(ends.map((s) => owners.uidOf(s)))
    expect(new Set(uids)).toEqual(new Set([process.getuid!()]))
    expect(reads.length).toBeLessThanOrEqual(4) // the first lookup's read, then one for all that waited on it
    await owners.uidOf(ends[3]!)
    expect(reads.length).toBeLessThanOrEqual(4)
  })

  it('reads at most once an interval, and lets at most `maxWaiting` lookups wait', async () => {
    const reads: number[] = []
    const owners = new LoopbackOwners(
      (path) => {
        reads.push(performance.now())
        return readFile(path, 'utf8')
      },
      { minIntervalMs: 200, maxWaiting: 2 },
    )
    const ends = await accepted(4)
    const uids = await Promise.all(ends.map((s) => owners.uidOf(s)))
    const me = process.getuid!()
    expect(uids).toEqual([me, me, me, undefined]) // the first is read at once; two wait; the fourth is turned away
    expect(reads).toHaveLength(4) // two reads of the two tables
    expect(reads[2]! - reads[0]!).toBeGreaterThanOrEqual(199)
  })

  it('names nobody when the tables cannot be read, or say nothing of the socket', async () => {
    const [end] = await accepted(1)
    expect(await new LoopbackOwners(() => Promise.reject(new Error('EACCES'))).uidOf(end!)).toBeUndefined()
    expect(await new LoopbackOwners(() => Promise.resolve('header\n')).uidOf(end!)).toBeUndefined()
    expect(await new LoopbackOwners(() => Promise.resolve('header\n  0: zz')).uidOf(end!)).toBeUndefined()
  })

  it('names nobody when two live sockets have the caller’s ends', async () => {
    const [end] = await accepted(1)
    const real = (await readFile('/proc/net/tcp', 'utf8')).split('\n')
    const port = end!.remotePort!.toString(16).toUpperCase().padStart(4, '0')
    const caller = real.find((l) =>
      l
        .trim()
        .split(/\s+/)[1]
        ?.endsWith(':' + port),
    )
    expect(caller).toBeDefined()
    // the same ends twice (as a forged table would show a second socket): trusted for neither
    const owners = new LoopbackOwners((path) => Promise.resolve(path.endsWith('6') ? '' : [...real, caller].join('\n')))
    expect(await owners.uidOf(end!)).toBeUndefined()
  })
})
