/**
 * A few real nodes, each with its HTTP API, for the rotation and revocation
 * tests: agents with keys the test holds, signed messages, raw gossip (to
 * play a peer that skips the rules), and the audit entries a node wrote.
 */
import { randomBytes } from 'node:crypto'
import { serveApi, type ServedApi } from '../../api/server.js'
import {
  createInception,
  createMessage,
  createRegistration,
  encodeEnvelope,
  generateKeyPair,
  type AuditEntry,
  type Capability,
  type Envelope,
  type KeyPair,
  type MsgEnvelope,
} from '../../node/core/index.js'
import type { MeshNode } from '../../node/mesh-node.js'
import type { Topic } from '../../node/p2p/index.js'
import { testConfig } from '../api/api-fixture.js'
import { startLine, stopAll } from '../helpers/mesh.js'
import { waitFor } from '../helpers/wait-for.js'

/** A JSON answer of a node's API. */
export interface Answer {
  readonly status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any
}

/** Nodes in a line, each serving its API. */
export interface KeysMesh {
  readonly nodes: MeshNode[]
  readonly apis: ServedApi[]
  /** The operator token every node of the mesh was served with. */
  readonly token: string
  /** JSON request to node `i`'s API, as its operator (the token every node of the mesh was served with). */
  call(i: number, method: string, path: string, body?: unknown): Promise<Answer>
  stop(): Promise<void>
}

/** Start `count` nodes in a line with their APIs; resolves once every gossip mesh has a neighbour. */
export async function startKeysMesh(count: number, transport: 'memory' | 'tcp' = 'memory'): Promise<KeysMesh> {
  const nodes = await startLine(count, transport)
  const token = randomBytes(32).toString('base64url')
  const apis = await Promise.all(nodes.map((n) => serveApi(n, testConfig(), { verifyWorkers: 0, token })))
  await waitForMeshes(nodes)
  return {
    nodes,
    apis,
    token,
    call: async (i, method, path, body) => {
      const res = await fetch(apis[i]!.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : undefined }
    },
    stop: async () => {
      await Promise.all(apis.map((a) => a.close()))
      await stopAll(nodes)
    },
  }
}

/** Wait until every node has a gossip neighbour on the registry and messages topics. */
export async function waitForMeshes(nodes: readonly MeshNode[]): Promise<void> {
  for (const topic of ['meshsig/v1/registry', 'meshsig/v1/messages'] as const) {
    await waitFor(() => nodes.every((n) => n.mesh.meshPeers(topic).length > 0), { timeout: 20_000, message: topic })
  }
}

/** An agent hosted by `node` whose keys the test holds (bring your own key, with a committed next key). */
export interface OwnAgent {
  readonly did: string
  readonly key: KeyPair
  readonly next: KeyPair
}

/** Register an agent with its own keys on `node` (signed icp and reg) and gossip it. */
export async function ownAgent(node: MeshNode, name: string, capabilities: Capability[] = []): Promise<OwnAgent> {
  const key = generateKeyPair()
  const next = generateKeyPair()
  const now = Date.now()
  const icp = createInception(key, now, next)
  const info = node.info()
  const reg = createRegistration(
    { did: icp.did, name, capabilities, controller: info.did, peerId: info.peerId, ts: now },
    key,
  )
  await node.registerExternalAgent(icp, reg)
  return { did: icp.did, key, next }
}

/** A fresh signed message from `from`, signed with `key`. */
export function message(key: KeyPair, from: string, to: string | null, body: string): MsgEnvelope {
  return createMessage({ from, to, body, ts: Date.now(), nonce: new Uint8Array(randomBytes(16)) }, key)
}

/** Publish an envelope straight onto a topic from `node`, skipping its own checks (a peer that breaks the rules). */
export async function rawGossip(node: MeshNode, topic: Topic, envelope: Envelope): Promise<void> {
  await node.mesh.publish(topic, encodeEnvelope(envelope))
}

/** Every audit entry `node` wrote, in log order. */
export function auditEntries(node: MeshNode): AuditEntry[] {
  return node.store.auditEntries
    .entries(0, node.store.auditEntries.count())
    .map((r) => JSON.parse(r.entry) as AuditEntry)
}

/** The audit entry `node` wrote when it refused envelope `id`, if any. */
export function rejection(node: MeshNode, id: string): AuditEntry | undefined {
  return auditEntries(node).find((e) => e.kind === 'envelope.rejected' && e.envelopeId === id)
}
