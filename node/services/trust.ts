/**
 * The node's trust function: the core's Beta reputation (node/core/trust.ts,
 * documented in docs/protocol.md §7) over the counters the store keeps in
 * step with the audit log, so a record's score equals the one anyone
 * recomputes from the audit export.
 */
import { trustScore } from '../core/index.js'

/** Trust of an agent from its verified messages and attributable failures. */
export function betaTrust(evidence: { verified: number; failures: number }): number {
  return trustScore({ successes: evidence.verified, failures: evidence.failures })
}
