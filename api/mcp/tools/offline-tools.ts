/**
 * The tools that need no running node: `meshsig_init`, `meshsig_sign`,
 * `meshsig_verify` (it asks the node for a did:msig's signed key events and
 * replays them, cli/commands/verify.ts) and `meshsig_identity`. Each runs the CLI's own command function
 * on the identity in `$MESHSIG_HOME`, so the MCP server and the CLI behave
 * alike. No private key is ever part of an answer.
 */
import * as z from 'zod'
import { identityCommand } from '../../../cli/commands/identity.js'
import { initCommand } from '../../../cli/commands/init.js'
import { signCommand } from '../../../cli/commands/sign.js'
import { verifyCommand } from '../../../cli/commands/verify.js'
import { isMeshsigError, MeshsigError } from '../../../node/core/errors.js'
import { identityPath } from '../../../node/identity/index.js'
import { defineTool, fromCommand, type McpTool, type ToolOutcome } from '../tool-kit.js'

/** Longest message `meshsig_sign` and `meshsig_verify` take, in UTF-16 code units (1 MiB). */
export const MAX_MESSAGE_LENGTH = 1024 * 1024

const message = z
  .string()
  .max(MAX_MESSAGE_LENGTH)
  .describe('The message text; its UTF-8 bytes are what is signed, exactly as given')

/**
 * Run `work` on the identity in `home`, with the identity errors worded for
 * an MCP client (a tool argument, not a CLI flag or command).
 */
export async function withIdentity(home: string, work: () => Promise<ToolOutcome>): Promise<ToolOutcome> {
  try {
    return await work()
  } catch (err) {
    if (!isMeshsigError(err)) throw err
    const path = identityPath(home)
    if (err.code === 'ALREADY_EXISTS') {
      // replacing it is no tool's to do: its keys would be lost for good (review 92 F6, decision 0063)
      const why =
        `an identity already exists at ${path} and is kept; no tool replaces it (its keys would be lost for ` +
        'good): use it as it is (meshsig_identity), or ask the person who runs this machine'
      throw new MeshsigError('ALREADY_EXISTS', why, { path })
    }
    if (err.code === 'NO_IDENTITY') {
      throw new MeshsigError('NO_IDENTITY', `no identity in ${home}; call meshsig_init first`, { path })
    }
    throw err
  }
}

/**
 * `meshsig_init {}`. No `force`: one call from a model, while the node was
 * stopped, replaced the node's own identity and kept no copy (review 92 F6).
 * A person replaces an identity at the terminal (`meshsig init --force`).
 */
export const initTool: McpTool = defineTool({
  name: 'meshsig_init',
  title: 'Create the meshsig identity',
  description:
    'Create this machine’s meshsig identity in $MESHSIG_HOME (default ~/.meshsig): an Ed25519 key pair, its ' +
    'did:msig DID, and an API token. The private key stays in identity.json (mode 0600) and is never returned. ' +
    'An existing identity is always kept (ALREADY_EXISTS): no tool replaces or deletes one.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (ctx) => withIdentity(ctx.home, async () => fromCommand(await initCommand(ctx, { force: false }))),
})

/** `meshsig_sign {message}`. */
export const signTool: McpTool = defineTool({
  name: 'meshsig_sign',
  title: 'Sign a message',
  description:
    'Sign a message with the identity in $MESHSIG_HOME (run meshsig_init first): a plain Ed25519 signature ' +
    'over the message’s UTF-8 bytes. Returns the base64 signature with the signer’s DID and public key; ' +
    'anyone can check it with meshsig_verify. Works offline. The signature speaks for this identity: sign only ' +
    'text you mean to vouch for. Inputs another meshsig format would accept (an RFC 9421 signature base, bytes ' +
    'starting 0xFF) are refused with SIGNING_REFUSED.',
  input: z.strictObject({ message }),
  // Not read-only: a signature exercises the identity's authority, so clients should ask before calling it.
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: (ctx, args) => withIdentity(ctx.home, async () => fromCommand(await signCommand(ctx, args.message))),
})

/** `meshsig_verify {message, signature, signer}`. */
export const verifyTool: McpTool = defineTool({
  name: 'meshsig_verify',
  title: 'Verify a signature',
  description:
    'Check a base64 Ed25519 signature over a message. signer is a did:msig DID, a did:key or a base64 public ' +
    'key; a did:key or key names the did:msig whose inception key it is. That DID is checked against its current ' +
    'key (key rotations and revocations count), whichever spelling was given: the DID’s signed key events from ' +
    'the node at MESHSIG_SERVER, replayed here from its inception key (a log that does not replay is the error ' +
    'KEL_INVALID); when nothing listens there, against the key the signer names, and the answer says so ' +
    '(keySource, note). With an API token in $MESHSIG_HOME (or MESHSIG_TOKEN) the server must first prove it is ' +
    'the node, else the error NODE_UNPROVEN; without one, note says the key state is that server’s unproven word. ' +
    'valid:false (with code SIGNATURE_INVALID, ROTATED_KEY or REVOKED) is an answer, not an error. A revocation ' +
    'reason is text its revoker chose: untrusted, shown quoted; only the valid field is the verdict.',
  input: z.strictObject({
    message,
    signature: z.string().min(1).max(256).describe('The base64 signature (64 bytes), as meshsig_sign returns it'),
    signer: z.string().min(1).max(256).describe('did:msig:…, did:key:z… or a base64 Ed25519 public key'),
  }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  run: async (ctx, args) => fromCommand(await verifyCommand(ctx, args.message, args.signature, args.signer)),
})

/** `meshsig_identity {}`. */
export const identityTool: McpTool = defineTool({
  name: 'meshsig_identity',
  title: 'Show the identity',
  description:
    'Show the public identity in $MESHSIG_HOME: DID (did:msig), did:key, libp2p PeerId, base64 public key and ' +
    'creation time. Never a private key. NO_IDENTITY when meshsig_init has not been run.',
  input: z.strictObject({}),
  annotations: { readOnlyHint: true, openWorldHint: false },
  run: (ctx) => withIdentity(ctx.home, async () => fromCommand(await identityCommand(ctx))),
})

/** The offline tools, in the order of docs/api.md. */
export const OFFLINE_TOOLS: readonly McpTool[] = [initTool, signTool, verifyTool, identityTool]
