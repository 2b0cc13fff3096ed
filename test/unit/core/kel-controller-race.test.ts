import { describe, expect, it } from 'vitest'
import {
  applyKeyEvent,
  createInception,
  createRevocation,
  createRotation,
  envelopeId,
  generateKeyPair,
  replayKeyEvents,
  type KeyEvent,
  type KeyState,
} from '../../../node/core/index.js'

const k0 = generateKeyPair()
const k1 = generateKeyPair()
const k2 = generateKeyPair()
const k3 = generateKeyPair()
const controller = generateKeyPair()
const icp = createInception(k0, 1_000, k1)
const afterIcp = replayKeyEvents([icp])
const rot1 = createRotation(afterIcp, k0, k1, 2_000, k2)
const rot2 = createRotation(replayKeyEvents([icp, rot1]), k1, k2, 3_000, k3)
/** The controller's revocation signed on the log as it stood after the inception (it raced `rot1`). */
const rev1 = createRevocation(afterIcp, controller, 'compromised', 2_500)

/** What one node ends with: events taken in arrival order, the way ingestion stores them (docs/protocol.md §6). */
interface Node {
  readonly state: KeyState | undefined
  readonly verdicts: string[]
  readonly stored: KeyEvent[]
}

/** Feed `events` to an empty node as ingestion does: stored log, ids at each seq, the DID's own state before a seq. */
function arrive(events: readonly KeyEvent[]): Node {
  let state: KeyState | undefined
  const stored: KeyEvent[] = []
  const verdicts: string[] = []
  const ownAt = (seq: number) => stored.filter((e) => e.seq === seq).sort((a) => (a.type === 'rev' ? 1 : -1))[0]
  for (const event of events) {
    try {
      state = applyKeyEvent(state, event, {
        controllerKeys: [controller.publicKey],
        eventIdAt: (seq) => {
          const e = ownAt(seq)
          return e === undefined ? undefined : envelopeId(e)
        },
        stateBefore: (seq) => {
          const prefix = stored.filter((e) => e.seq < seq && e.type !== 'rev')
          return prefix.length === 0 ? undefined : replayKeyEvents(prefix)
        },
      })
      stored.push(event)
      verdicts.push('accepted')
    } catch (err) {
      verdicts.push((err as { code: string }).code)
    }
  }
  return { state, verdicts, stored }
}

describe('a revocation by the controller outranks a rotation that races it (docs/protocol.md §6)', () => {
  it('rotation first, then the revocation at the rotated seq: both taken, the DID is revoked by its controller', () => {
    const node = arrive([icp, rot1, rev1])
    expect(node.verdicts).toEqual(['accepted', 'accepted', 'accepted'])
    expect(node.state).toMatchObject({ seq: 1, lastId: envelopeId(rot1), revoked: { by: 'controller' } })
  })

  it('revocation first, then the rotation: the rotation is REVOKED (not duplicity), the DID stays revoked', () => {
    const node = arrive([icp, rev1, rot1])
    expect(node.verdicts).toEqual(['accepted', 'accepted', 'REVOKED'])
    expect(node.state).toMatchObject({ seq: 0, lastId: envelopeId(icp), revoked: { by: 'controller' } })
  })

  it('every order of the race ends revoked, with the same reason and time', () => {
    const orders = [
      [icp, rot1, rot2, rev1],
      [icp, rot1, rev1, rot2],
      [icp, rev1, rot1, rot2],
    ]
    for (const order of orders) {
      expect(arrive(order).state?.revoked, order.map((e) => e.type).join(',')).toEqual({
        reason: 'compromised',
        ts: 2_500,
        by: 'controller',
      })
    }
  })

  it('the same late revocation again, or a second one by the controller: DUPLICATE', () => {
    const again = createRevocation(afterIcp, controller, 'again', 2_600)
    expect(arrive([icp, rot1, rev1, rev1, again]).verdicts.slice(3)).toEqual(['DUPLICATE', 'DUPLICATE'])
  })

  it('a late revocation signed by anyone else is refused for what it is; one by the retired key is old history', () => {
    const stranger = createRevocation(afterIcp, generateKeyPair(), 'forged', 2_500)
    const node = arrive([icp, rot1, rot2, stranger, createRevocation(afterIcp, k0, 'stolen key', 2_500)])
    expect(node.verdicts.slice(3)).toEqual(['SIGNATURE_INVALID', 'DUPLICATE'])
    expect(node.state?.revoked).toBeNull()
  })

  it('the controller’s revocation names where its signer saw the log, even a branch this node never took (a fork)', () => {
    const fork = createRotation(afterIcp, k0, k1, 2_001, generateKeyPair())
    const onFork = createRevocation(replayKeyEvents([icp, fork]), controller, 'compromised', 2_500)
    expect(arrive([icp, rot1, onFork]).state?.revoked).toMatchObject({ by: 'controller' })
    expect(arrive([icp, onFork, rot1]).verdicts).toEqual(['accepted', 'accepted', 'REVOKED'])
  })

  it('a revocation by the controller at the head leaves the DID’s own log where it stands; one by the DID moves it', () => {
    const byController = createRevocation(replayKeyEvents([icp, rot1]), controller, 'done', 3_000)
    expect(arrive([icp, rot1, byController]).state).toMatchObject({ seq: 1, lastId: envelopeId(rot1) })
    const bySelf = createRevocation(replayKeyEvents([icp, rot1]), k1, 'done', 3_000)
    expect(arrive([icp, rot1, bySelf]).state).toMatchObject({ seq: 2, lastId: envelopeId(bySelf) })
  })

  it('a stored log with the raced revocation replays to the same state, given the controller key, in any order', () => {
    expect(replayKeyEvents([icp, rot1, rev1], controller.publicKey)).toEqual(arrive([icp, rot1, rev1]).state)
    const deep = arrive([icp, rot1, rot2, rev1]).state
    expect(replayKeyEvents([icp, rot1, rev1, rot2], controller.publicKey)).toEqual(deep)
    expect(() => replayKeyEvents([icp, rot1, rev1])).toThrow()
  })
})
