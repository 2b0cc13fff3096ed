/**
 * What the dashboard reads of the registry once per stream connection
 * (ui/src/agent-sync.ts `REGISTRY_READS`, read by api.ts `fetchRegistry`;
 * review of stop 36's dashboard): this node's own agents and the newest
 * others, a bounded page each, not the whole registry, which a remote peer
 * can fill with 250,000 agents for the tab to hold, newer than, and so
 * pushing out of view, this node's own. (The browser test
 * dashboard-agent-churn.test.ts sees the page make these two reads.)
 */
import { describe, expect, it } from 'vitest'
import { mergeRegistryReads, REGISTRY_READ_LIMIT, REGISTRY_READS } from '../../ui/src/agent-sync.js'
import type { Agent } from '../../ui/src/types.js'

describe('the registry as the dashboard reads it', () => {
  it('asks for this node’s agents and the newest others, a bounded page each, and lists each agent once', () => {
    expect(REGISTRY_READ_LIMIT).toBe(10_000)
    expect(REGISTRY_READS).toEqual(['/agents?origin=local&limit=10000', '/agents?limit=10000'])
    const agent = (did: string): Agent => ({ did, name: did }) as unknown as Agent
    const merged = mergeRegistryReads(
      [agent('did:msig:L1'), agent('did:msig:L2')],
      [agent('did:msig:R1'), agent('did:msig:L2'), agent('did:msig:R2')],
    )
    expect(merged.map((a) => a.did)).toEqual(['did:msig:L1', 'did:msig:L2', 'did:msig:R1', 'did:msig:R2'])
  })
})
