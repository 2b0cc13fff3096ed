import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acceptEnvelope, DEFAULT_MAX_SKEW_MS, merkleRoot } from '../../node/core/index.js'
import { AuditLog } from '../../node/audit/audit-log.js'
import { openStore } from '../../node/store/index.js'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

describe('a node killed with SIGKILL in the middle of traffic', () => {
  let cli: BuiltCli
  const home = tempDir()

  beforeAll(() => {
    cli = buildCli()
  }, 120_000)

  afterAll(() => {
    cli?.cleanup()
    home.cleanup()
  })

  it('loses nothing it acknowledged: every answered message is stored, audited and re-verifies', async () => {
    const port = await freePort()
    const proc = startProcess(cli, home.dir, port, [], { MESHSIG_RATE_LIMIT: '0' })
    await waitFor(() => getJson(`${proc.url}/health`), { timeout: 30_000, interval: 100 })
    const reg = async (name: string): Promise<string> =>
      (await postJson<{ identity: { did: string } }>(`${proc.url}/agents/register`, { name })).body.identity.did
    const [a, b] = [await reg('a'), await reg('b')]
    const token = readFileSync(join(home.dir, 'api-token'), 'utf8').trim()
    const acknowledged: string[] = []
    let stop = false
    const sender = async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await postJson<{ id?: string; envelope?: { sig: string } }>(
            `${proc.url}/messages/send`,
            { fromDid: a, toDid: b, message: `task ${i}` },
            token, // the operator token the node made in its home (docs/protocol.md §8)
          )
          if (r.status === 201 || r.status === 200) acknowledged.push(JSON.stringify(r.body))
        } catch {
          return // the process is gone: this request was never answered
        }
      }
    }
    const senders = Array.from({ length: 8 }, () => sender())
    await waitFor(() => acknowledged.length >= 300, { timeout: 60_000, interval: 20 })
    proc.child.kill('SIGKILL')
    stop = true
    await Promise.all(senders)
    await proc.exited()

    const store = openStore({ path: `${home.dir}/meshsig.db` })
    try {
      const stored = new Map(store.messages.list({ limit: 1_000_000 }).map((m) => [m.envelope.sig, m]))
      for (const ack of acknowledged) {
        const body = JSON.parse(ack) as { signature?: string; envelope?: { sig: string } }
        const sig = body.envelope?.sig ?? body.signature
        expect(sig, ack).toBeDefined()
        const row = stored.get(sig!)
        expect(row, `acknowledged message missing after the crash: ${ack}`).toBeDefined()
        // re-verifiable from what is stored alone
        const ctx = {
          now: row!.envelope.ts,
          maxSkewMs: DEFAULT_MAX_SKEW_MS,
          keyState: (did: string) => store.keyEvents.state(did),
          controllerOf: () => undefined,
          nonceSeen: () => false,
          hasEnvelope: () => false,
          eventIdAt: () => undefined,
        }
        expect(acceptEnvelope(row!.envelope, ctx, { fresh: true }).ok).toBe(true)
      }
      // every stored message has its audit entry, and the log's leaves form a consistent tree
      const size = store.auditEntries.count()
      const entries = store.auditEntries
        .entries(0, size)
        .map((r) => JSON.parse(r.entry) as { kind: string; envelopeId: string | null })
      const audited = new Set(entries.filter((e) => e.kind === 'envelope.accepted').map((e) => e.envelopeId))
      for (const m of stored.values()) expect(audited.has(m.id)).toBe(true)
      // the Merkle frontier the node restores (saved every FRONTIER_SAVE_EVERY entries, the rest from the leaves)
      // gives the root of every leaf that survived
      const head = new AuditLog(store, () => 0).head()
      expect(head.size).toBe(size)
      expect(Buffer.from(head.root)).toEqual(Buffer.from(merkleRoot((i) => store.auditEntries.leafHash(i), size)))
    } finally {
      store.close()
    }
  }, 120_000)
})
