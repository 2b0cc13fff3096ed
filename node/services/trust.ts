/**
 * Trust of an agent from what this node verified (SPEC §6): a Beta
 * reputation with a uniform prior, (1 + s) / (2 + s + 2f), where s counts
 * verified messages the agent signed and f counts attributable failures
 * (validly signed envelopes that broke a rule). Always in [0, 1]; a new
 * agent starts at 0.5; forgeries never enter f.
 */

/** Weight of one attributable failure relative to one verified message. */
export const FAILURE_WEIGHT = 2

/** Beta-reputation trust score of an agent's verified history. */
export function betaTrust(evidence: { verified: number; failures: number }): number {
  const s = Math.max(0, evidence.verified)
  const f = Math.max(0, evidence.failures)
  return (1 + s) / (2 + s + FAILURE_WEIGHT * f)
}
