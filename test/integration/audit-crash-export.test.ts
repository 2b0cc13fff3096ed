/**
 * Issue 11 (1): a node receiving sends is killed with SIGKILL and restarted
 * three times; after every restart its first audit export verifies with
 * `meshsig audit verify` (one tree size throughout: entries, checkpoint,
 * messages and trust), and every acknowledged message is in the node.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildCli, type BuiltCli } from '../cli/build-cli.js'
import { tempDir } from '../helpers/mesh.js'
import { freePort, getJson, postJson, startProcess, type NodeProcess } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'

interface Export {
  entries: unknown[]
  messages: { id: string; envelope: { sig: string } }[]
  checkpoint: { size: number }
}

describe('audit export after SIGKILL restarts', () => {
  let cli: BuiltCli
  const home = tempDir()

  beforeAll(() => {
    cli = buildCli()
  }, 120_000)

  afterAll(() => {
    cli?.cleanup()
    home.cleanup()
  })

  async function start(): Promise<NodeProcess> {
    const proc = startProcess(cli, home.dir, await freePort(), [], { MESHSIG_RATE_LIMIT: '0' })
    await waitFor(() => getJson(`${proc.url}/health`), { timeout: 60_000, interval: 100 }).catch((err: Error) => {
      throw new Error(`${err.message}\n${proc.output()}`)
    })
    return proc
  }

  /** Send from a to b with eight concurrent senders until `count` are acknowledged, then SIGKILL. */
  async function loadAndKill(proc: NodeProcess, a: string, b: string, count: number): Promise<string[]> {
    const token = readFileSync(join(home.dir, 'api-token'), 'utf8').trim()
    const acked: string[] = []
    let stop = false
    const sender = async (): Promise<void> => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await postJson<{ signature?: string; envelope?: { sig: string } }>(
            `${proc.url}/messages/send`,
            { fromDid: a, toDid: b, message: `task ${i}` },
            token,
          )
          const sig = r.body.envelope?.sig ?? r.body.signature
          if ((r.status === 201 || r.status === 200) && sig !== undefined) acked.push(sig)
        } catch {
          return // the process is gone: this request was never answered
        }
      }
    }
    const senders = Array.from({ length: 8 }, () => sender())
    await waitFor(() => acked.length >= count, { timeout: 90_000, interval: 20 })
    proc.child.kill('SIGKILL')
    stop = true
    await Promise.all(senders)
    await proc.exited()
    return acked
  }

  it('the first export after each of three restarts verifies and holds every acknowledged message', async () => {
    let proc = await start()
    const reg = async (name: string): Promise<string> =>
      (await postJson<{ identity: { did: string } }>(`${proc.url}/agents/register`, { name })).body.identity.did
    const [a, b] = [await reg('a'), await reg('b')]
    const acked: string[] = []
    for (let round = 1; round <= 3; round++) {
      acked.push(...(await loadAndKill(proc, a, b, 60)))
      proc = await start()
      const doc = await getJson<Export>(`${proc.url}/audit/export`)
      expect(doc.entries.length).toBe(doc.checkpoint.size)
      const file = join(home.dir, `export-${round}.json`)
      writeFileSync(file, JSON.stringify(doc))
      const run = spawnSync(process.execPath, [cli.main, 'audit', 'verify', file, '--json'], { encoding: 'utf8' })
      expect(run.status, `round ${round}: ${run.stdout.slice(0, 2000)}${run.stderr}`).toBe(0)
      expect((JSON.parse(run.stdout) as { ok: boolean }).ok).toBe(true)
      // every acknowledged message is stored (the export may stop at an older checkpoint)
      const stored = new Set<string>()
      for (let before: number | undefined; ;) {
        const q = before === undefined ? '' : `&before=${before}`
        const page = await getJson<{ messages: { seq: number; signature: string }[] }>(
          `${proc.url}/messages?limit=1000${q}`,
        )
        for (const m of page.messages) stored.add(m.signature)
        if (page.messages.length < 1000) break
        before = page.messages[page.messages.length - 1]!.seq
      }
      for (const sig of acked) expect(stored.has(sig), `round ${round}: lost ${sig}`).toBe(true)
    }
    proc.child.kill('SIGTERM')
    await proc.exited()
  }, 400_000)
})
