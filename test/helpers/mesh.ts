/**
 * Real in-process meshsig nodes for integration tests: fresh identities,
 * in-memory databases (or files in a temp folder), memory or TCP transports.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '../../node/core/index.js'
import { checkIdentityFile, newIdentityFile, type Identity } from '../../node/identity/index.js'
import { MeshNode, type MeshNodeInit } from '../../node/mesh-node.js'

let counter = 0

/** A fresh node identity, not written anywhere. */
export function freshIdentity(): Identity {
  const file = newIdentityFile(generateKeyPair(), generateKeyPair(), Date.now())
  return checkIdentityFile(file, '(memory)')
}

/** Options of one test node. */
export interface TestNodeOptions {
  readonly transports?: 'memory' | 'tcp'
  readonly peers?: readonly string[]
  readonly identity?: Identity
  readonly dbPath?: string
  readonly name?: string
  readonly listen?: readonly string[]
  /** The meshsig home the identity lives in (lets the node take up its own key rotation). */
  readonly home?: string
  /** Further node settings (timings of one test). */
  readonly init?: Partial<Omit<MeshNodeInit, 'name' | 'identity' | 'dbPath' | 'transports' | 'listen' | 'peers'>>
}

/** Start one node with fast test timings. */
export async function startNode(opts: TestNodeOptions = {}): Promise<MeshNode> {
  const n = ++counter
  const memory = (opts.transports ?? 'memory') === 'memory'
  const init: MeshNodeInit = {
    name: opts.name ?? `node-${n}`,
    identity: opts.identity ?? freshIdentity(),
    dbPath: opts.dbPath ?? ':memory:',
    transports: memory ? 'memory' : 'tcp+ws',
    listen: opts.listen ?? (memory ? [`/memory/meshsig-${process.pid}-${n}-${Date.now()}`] : ['/ip4/127.0.0.1/tcp/0']),
    peers: opts.peers ?? [],
    dhtQuerySelfInterval: 500,
    heartbeatInterval: 200,
    ...(opts.home !== undefined ? { home: opts.home } : {}),
    ...opts.init,
  }
  const node = await MeshNode.create(init)
  await node.start()
  return node
}

/** Start `count` nodes in a line: each dials only the one before it. */
export async function startLine(count: number, transports: 'memory' | 'tcp' = 'memory'): Promise<MeshNode[]> {
  const nodes: MeshNode[] = []
  for (let i = 0; i < count; i++) {
    const prev = nodes[i - 1]
    nodes.push(await startNode({ transports, peers: prev ? [prev.info().multiaddrs[0]!] : [] }))
  }
  return nodes
}

/** Stop every node, ignoring ones already stopped. */
export async function stopAll(nodes: readonly (MeshNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.stop().catch(() => undefined)))
}

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'meshsig-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
