/**
 * Agents that keep their own keys, registered on a node that is their
 * controller, rotated through one of the node's paths and then revoked by
 * that node as their controller (decisions 0044, 0069 and 0070): what a node
 * that joins or returns later must catch up on by sync.
 */
import {
  createInception,
  createRegistration,
  createRotation,
  generateKeyPair,
  toB64,
  type KeyPair,
  type KeyState,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import { ANONYMOUS, OPERATOR } from '../../node/services/authority.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * How an agent rotates: a signed `rot` with the registration its new key signed (`envelope+registration`),
 * its keys sent seed style (`seed`: the node re-signs its registration), or a bare signed `rot` (`bare`).
 */
export type RotationPath = 'envelope+registration' | 'seed' | 'bare'

/** An agent holding its keys. */
export interface OwnKeyAgent {
  readonly did: string
  readonly key: KeyPair
  readonly next: KeyPair
}

/** Register `count` agents on `node` (their controller), and wait until `watcher` holds their registrations. */
export async function registerOwnKeyAgents(node: MeshNode, watcher: MeshNode, count: number): Promise<OwnKeyAgent[]> {
  const { did: controller, peerId } = node.info()
  const agents: OwnKeyAgent[] = []
  for (let i = 0; i < count; i++) {
    const key = generateKeyPair()
    const next = generateKeyPair()
    const ts = Date.now()
    const icp = createInception(key, ts, next)
    const reg = createRegistration({ did: icp.did, name: `own-${i}`, capabilities: [], controller, peerId, ts }, key)
    await node.registerExternalAgent(icp, reg)
    agents.push({ did: icp.did, key, next })
  }
  await waitFor(() => agents.every((a) => watcher.store.agents.get(a.did) !== undefined), {
    timeout: 30_000,
    message: 'registrations gossiped',
  })
  return agents
}

/** Rotate `agent` on `node` through `path`. */
export async function rotateOwnKeyAgent(node: MeshNode, agent: OwnKeyAgent, path: RotationPath): Promise<void> {
  const { did, key, next } = agent
  if (path === 'seed') {
    const keys = { currentPrivateKey: toB64(key.seed), nextPrivateKey: toB64(next.seed) }
    await node.rotateAgent({ did, ...keys, authority: ANONYMOUS })
    return
  }
  const state = node.store.keyEvents.state(did) as KeyState
  const envelope = createRotation(state, key, next, Date.now(), generateKeyPair())
  if (path === 'bare') {
    await node.rotateAgent({ did, envelope, authority: ANONYMOUS })
    return
  }
  const held = node.store.agents.get(did)!
  const { name, capabilities, controller, peerId } = held
  const registration = createRegistration({ did, name, capabilities, controller, peerId, ts: Date.now() }, next)
  await node.rotateAgent({ did, envelope, registration, authority: ANONYMOUS })
}

/**
 * Rotate each agent through its path, then revoke it as its controller (the operator of `node`); wait until
 * `watcher`, online all along, took every rotation and revocation by gossip.
 */
export async function rotateThenRevoke(
  node: MeshNode,
  watcher: MeshNode,
  agents: readonly OwnKeyAgent[],
  pathOf: (i: number) => RotationPath,
): Promise<void> {
  for (const [i, agent] of agents.entries()) await rotateOwnKeyAgent(node, agent, pathOf(i))
  await waitFor(() => agents.every((a) => watcher.store.keyEvents.state(a.did)?.seq === 1), {
    timeout: 30_000,
    message: 'rotations gossiped',
  })
  for (const agent of agents) await node.revokeAgent({ did: agent.did, reason: 'retired', authority: OPERATOR })
  await waitFor(() => agents.every((a) => watcher.store.keyEvents.state(a.did)?.revoked), {
    timeout: 30_000,
    message: 'revocations gossiped',
  })
}

/** The forgeries `node` charged `peer` with. */
export function forgedBy(node: MeshNode, peer: string): number {
  return node.store.misc.peerFaults().find((f) => f.peer === peer)?.forged ?? 0
}

/** True while `node` is connected to `peer`. */
export function connectedTo(node: MeshNode, peer: string): boolean {
  return node.mesh.peers().some((p) => p.peerId === peer)
}
