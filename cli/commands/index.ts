/**
 * Command registry. Each command lives in its own file and exports
 * `register<Name>(cli, rt)`; add a new command by writing its file and
 * listing it here.
 */
import type { CAC } from 'cac'
import type { CliRuntime } from '../context.js'
import { registerAgents } from './agents.js'
import { registerAudit } from './audit.js'
import { registerDashboard } from './dashboard.js'
import { registerIdentity } from './identity.js'
import { registerInit } from './init.js'
import { registerSign } from './sign.js'
import { registerRevoked } from './revoked.js'
import { registerRevoke } from './revoke.js'
import { registerRotateKey } from './rotate-key.js'
import { registerStart } from './start.js'
import { registerStats } from './stats.js'
import { registerVerify } from './verify.js'

/** Registers one command on `cli`. */
export type RegisterCommand = (cli: CAC, rt: CliRuntime) => void

/** Commands that need no running node. */
export const OFFLINE_COMMANDS: readonly RegisterCommand[] = [
  registerInit,
  registerSign,
  registerVerify,
  registerIdentity,
]

/** Commands that run or talk to a node. */
export const NODE_COMMANDS: readonly RegisterCommand[] = [
  registerStart,
  registerAgents,
  registerStats,
  registerRotateKey,
  registerRevoke,
  registerRevoked,
  registerAudit,
  registerDashboard,
]

/** Register every offline command. */
export function registerOfflineCommands(cli: CAC, rt: CliRuntime): void {
  for (const register of OFFLINE_COMMANDS) register(cli, rt)
}

/** Register every command: offline ones, then those that run or talk to a node. */
export function registerAllCommands(cli: CAC, rt: CliRuntime): void {
  registerOfflineCommands(cli, rt)
  for (const register of NODE_COMMANDS) register(cli, rt)
}
