// /metrics gauges with one label (relay quotas' drops by reason, logged problems by component) report what
// their sources say at each scrape, one sample per label value.
import { describe, expect, it } from 'vitest'
import { ApiMetrics } from '../../api/metrics.js'

describe('labelled gauges of /metrics', () => {
  it('report the relay drops by reason and the logged problems by component, as read at scrape time', async () => {
    const drops: Record<string, number> = { unregistered: 3, 'peer-budget': 1 }
    const problems = new Map([['sync', 2]])
    const metrics = new ApiMetrics({
      peers: () => 0,
      agents: () => 0,
      auditEntries: () => 0,
      wsClients: () => 0,
      relayDropped: () => drops,
      problems: () => problems,
    })
    let text = await metrics.render()
    expect(text).toContain('meshsig_relay_dropped_total{reason="unregistered"} 3')
    expect(text).toContain('meshsig_relay_dropped_total{reason="peer-budget"} 1')
    expect(text).toContain('meshsig_logged_problems_total{component="sync"} 2')
    drops['did-budget'] = 5
    problems.set('sync', 4)
    text = await metrics.render()
    expect(text).toContain('meshsig_relay_dropped_total{reason="did-budget"} 5')
    expect(text).toContain('meshsig_logged_problems_total{component="sync"} 4')
  })
})
