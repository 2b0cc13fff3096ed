/**
 * Crash safety of the WebSocket transport (issue 12): a dial to a port whose
 * SYNs are dropped is aborted by its deadline; once the DROP rule goes, the
 * kernel's next SYN retransmission is refused. Unguarded, @libp2p/websockets
 * had dropped its error listener on abort and the late ECONNREFUSED killed
 * the process ("Unhandled 'error' event"). Now the aborted dial closes its
 * socket at once and every socket keeps an error listener.
 */
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import '../../node/polyfill.js'
import { peerIdFromPublicKey, generateKeyPair } from '../../node/core/index.js'
import { freePort } from '../helpers/node-process.js'
import { waitFor } from '../helpers/wait-for.js'
import { startPeer, stopAll, type Peer } from './p2p-fixture.js'

/** Connections of this process in SYN-SENT towards `port`. */
function synSent(port: number): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'syn-sent', `( dport = :${port} )`]).toString()
  return out.split('\n').filter((l) => l.trim().length > 0).length
}

describe('an aborted WebSocket dial to a dead peer', () => {
  const peers: Peer[] = []
  let rule: string[] | undefined
  const dropRule = (port: number): string[] => [
    'INPUT',
    '-i',
    'lo',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '--syn',
    '-j',
    'DROP',
  ]
  const removeRule = (): void => {
    if (rule === undefined) return
    execFileSync('iptables', ['-D', ...rule])
    rule = undefined
  }
  afterAll(async () => {
    removeRule()
    await stopAll(peers)
  })

  it('closes its socket and no late connect error kills the node', async () => {
    const crashes: unknown[] = []
    const onCrash = (err: unknown): void => void crashes.push(err)
    process.on('uncaughtException', onCrash)
    try {
      const node = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] })
      peers.push(node)
      const port = await freePort() // nothing listens here: a SYN that gets through is refused
      rule = dropRule(port)
      execFileSync('iptables', ['-I', ...rule])
      const ghost = peerIdFromPublicKey(generateKeyPair().publicKey)
      const dialedAt = Date.now()
      await expect(
        node.node.dial(`/ip4/127.0.0.1/tcp/${port}/ws/p2p/${ghost}`, { timeoutMs: 1_000 }),
      ).rejects.toMatchObject({ code: 'UNREACHABLE' })
      // the aborted dial closed its socket: no SYN is retried, nothing can arrive later
      await waitFor(() => synSent(port) === 0, { message: 'aborted dial socket closed' })
      removeRule()
      // past the kernel's second SYN retransmission (3 s after the first SYN), when the refusal would land
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, dialedAt + 4_000 - Date.now())))
      expect(crashes).toEqual([])
      // and the node still dials over WebSockets
      const other = await startPeer({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
      peers.push(other)
      const wsAddr = other.node.multiaddrs().find((a) => a.includes('/ws'))!
      await expect(node.node.dial(wsAddr)).resolves.toBe(other.peerId)
    } finally {
      process.off('uncaughtException', onCrash)
    }
  }, 30_000)
})
