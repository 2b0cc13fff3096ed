/**
 * A rogue libp2p peer, run as its own OS process by sync-poisoning.test.ts
 * (`node --import tsx test/integration/sync-rogue-peer.ts <victim multiaddr> sync|gossip`)
 * so that its signing and stream writing never run on the victim's event
 * loop. It answers every `/meshsig/sync/1.0.0` request (docs/protocol.md §9)
 * with a claim of 100,000 items and then up to 100,000 valid self-signed
 * inceptions nobody registered, and gossips fresh such inceptions on
 * `meshsig/v1/registry` until 50,000 are out or the victim hung up.
 *
 * Mode `sync` (argument 2) floods sync answers and gossips; mode `gossip`
 * answers sync as an empty registry (so the victim keeps the connection)
 * and floods gossip alone.
 *
 * It reports on stdout, one JSON object a line: `{"peerId"}` once started,
 * `{"published"}` every 1,000 messages, `{"done", "published"}` at the end.
 * It exits when its stdin closes.
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInception, encodeEnvelope, generateKeyPair } from '../../node/core/index.js'
import { createMeshP2P, type SyncRequest } from '../../node/p2p/index.js'

/** Inceptions published at most by gossip. */
const FLOOD = 50_000
/** Items claimed and served in answer to any sync request. */
const ANSWER = 100_000

function emptyInception(): Uint8Array {
  return encodeEnvelope(createInception(generateKeyPair(), Date.now()))
}

const pool = Array.from({ length: 512 }, emptyInception)

function* flood(request: SyncRequest, mode: string): Generator<Uint8Array> {
  if (request.kind === 'fp') {
    const n = request.prefixes.length * (request.children === true ? 16 : 1)
    for (let i = 0; i < n; i++) {
      yield mode === 'sync' ? Uint8Array.of(0, 1, 0x86, 0xa0, ...randomBytes(16)) : new Uint8Array(4)
    }
    return
  }
  if (mode === 'sync') for (let i = 0; i < ANSWER; i++) yield pool[i % pool.length]!
}

function say(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

async function main(victim: string, mode: string): Promise<void> {
  const rogue = await createMeshP2P({
    seed: new Uint8Array(randomBytes(32)),
    transports: 'tcp+ws',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    heartbeatInterval: 200,
    validate: () => 'accept',
    onMessage: () => undefined,
    syncProvider: (request) => flood(request, mode),
  })
  await rogue.start()
  say({ peerId: rogue.peerId })
  process.stdin.on('end', () => void rogue.stop().finally(() => process.exit(0)))
  process.stdin.resume()
  const victimId = await rogue.dial(victim)
  const connected = (): boolean => rogue.peers().some((p) => p.peerId === victimId)
  for (let i = 0; i < 200 && !rogue.subscribers('meshsig/v1/registry').includes(victimId); i++) {
    await new Promise((r) => setTimeout(r, 50)) // the victim's subscription has not arrived yet
  }
  let published = 0
  while (published < FLOOD && connected()) {
    await rogue.publish('meshsig/v1/registry', emptyInception()).catch(() => undefined)
    published++
    await new Promise((r) => setImmediate(r)) // let this process's own I/O run (a hang-up must be seen)
    if (published % 1000 === 0) say({ published })
  }
  say({ done: true, published })
}

await main(process.argv[2] ?? '', process.argv[3] ?? 'sync')
