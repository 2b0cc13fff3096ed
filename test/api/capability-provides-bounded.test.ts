/**
 * What a node announces on the DHT for capability discovery (docs/protocol.md
 * §9, "Capability discovery"; decision 0059). Registrations bring capability
 * types: at most `limits.discovery.provideConcurrency` DHT provides run at
 * once, at most `limits.discovery.providedTypes` distinct types are provided
 * (the oldest agents' first; one warning for those past it), a type no
 * active own agent holds any more is withdrawn, and a re-announcement
 * provides the current set only. (Attack review 81 F4: 20 anonymous
 * registrations of 64 new types each started 1,280 provides at once and left
 * 1,280 types re-provided for good.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../node/limits.js'
import { createLogger } from '../../node/logger.js'
import type { MeshP2P } from '../../node/p2p/index.js'
import type { NodeParts } from '../../node/node-state.js'
import { waitFor } from '../helpers/wait-for.js'
import { expectNo500, startApi, type ApiFixture } from './api-fixture.js'

const { providedTypes, provideConcurrency } = DEFAULT_LIMITS.discovery
const REGISTRATIONS = 20
const TYPES_EACH = 64

/** The DHT calls of the node's mesh, recorded; provides wait at a gate until it opens. */
interface Recorder {
  inFlight: number
  maxInFlight: number
  readonly provided: string[]
  readonly withdrawn: string[]
  /** Let every held provide go on, and the later ones through at once. */
  open(): void
  /** Hold the provides that start from now on, and start the maximum afresh. */
  close(): void
}

function record(p2p: MeshP2P): Recorder {
  const provide = p2p.provideCapability.bind(p2p)
  const withdraw = (p2p.withdrawCapability as MeshP2P['withdrawCapability'] | undefined)?.bind(p2p)
  let held: (() => void)[] = []
  let gateOpen = false
  const r: Recorder = {
    inFlight: 0,
    maxInFlight: 0,
    provided: [],
    withdrawn: [],
    open: () => {
      gateOpen = true
      for (const go of held) go()
      held = []
    },
    close: () => {
      gateOpen = false
      r.maxInFlight = r.inFlight
    },
  }
  p2p.provideCapability = async (type, options) => {
    r.provided.push(type)
    r.inFlight += 1
    r.maxInFlight = Math.max(r.maxInFlight, r.inFlight)
    try {
      if (!gateOpen) await new Promise<void>((go) => held.push(go))
      await provide(type, options)
    } finally {
      r.inFlight -= 1
    }
  }
  p2p.withdrawCapability = async (type) => {
    r.withdrawn.push(type)
    await withdraw?.(type)
  }
  return r
}

const typesOf = (i: number): string[] => Array.from({ length: TYPES_EACH }, (_, j) => `junk.${i}.${j}`)

describe('capability types a node provides on the DHT', () => {
  let fx: ApiFixture
  let parts: NodeParts
  let dht: Recorder
  const warnings: string[] = []
  const dids: string[] = []

  beforeAll(async () => {
    const logger = createLogger({ level: 'warn', json: false, write: (line) => warnings.push(line) })
    fx = await startApi({}, {}, { init: { logger } })
    parts = (fx.node as unknown as { parts: NodeParts }).parts
    dht = record(parts.p2p())
  })
  afterAll(async () => {
    expectNo500(fx)
    await fx.stop()
  })

  const provides = () => parts.discovery.provides
  const settled = () => waitFor(() => dht.inFlight === 0 && provides().view().queued === 0)

  it('20 anonymous registrations of 64 new types: a few provides at a time, at most the bound in all', async () => {
    for (let i = 0; i < REGISTRATIONS; i++) {
      const capabilities = typesOf(i).map((type) => ({ type }))
      const r = await fx.anon('POST', '/agents/register', { name: `a${i}`, capabilities })
      expect(r.status).toBe(201)
      dids.push(r.body.record.did as string)
    }
    await new Promise((go) => setImmediate(go))
    expect(dht.maxInFlight).toBeLessThanOrEqual(provideConcurrency)
    dht.open()
    await settled()
    expect(dht.maxInFlight).toBeLessThanOrEqual(provideConcurrency)
    const oldest = Array.from({ length: providedTypes / TYPES_EACH }, (_, i) => typesOf(i)).flat()
    expect(new Set(dht.provided)).toEqual(new Set(oldest))
    expect(provides().types()).toEqual(oldest)
    expect(provides().view().leftOut).toBe(REGISTRATIONS * TYPES_EACH - providedTypes)
    expect(warnings.filter((w) => w.includes('limits.discovery.providedTypes'))).toHaveLength(1)
  })

  it('a revoked agent’s types are withdrawn, and a re-announcement provides the current set only', async () => {
    dht.close()
    dht.provided.length = 0
    const revoked = await fx.call('POST', '/agents/revoke', { did: dids[0], reason: 'gone' })
    expect(revoked.status, revoked.text).toBe(200)
    await waitFor(() => dht.withdrawn.length === TYPES_EACH)
    expect(dht.withdrawn).toEqual(typesOf(0))
    const current = Array.from({ length: providedTypes / TYPES_EACH }, (_, i) => typesOf(i + 1)).flat()
    expect(provides().types().sort()).toEqual([...current].sort()) // the next oldest agent's types take the slots
    provides().reprovide()
    await new Promise((go) => setImmediate(go))
    expect(dht.maxInFlight).toBeLessThanOrEqual(provideConcurrency)
    dht.open()
    await settled()
    expect(new Set(dht.provided)).toEqual(new Set(current))
    expect(dht.provided.some((t) => t.startsWith('junk.0.'))).toBe(false)
  })
})
