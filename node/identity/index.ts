/**
 * The node's identity on disk: `identity.json` (keys, DID, key event log), the
 * API token and the custody key, in a 0700 meshsig home folder with 0600 files.
 *
 * - `resolveHome(explicit?, env?)` — the one place the home folder comes from.
 * - `createIdentity(home)` / `replaceIdentity(home)` (`init --force`) / `loadIdentity(home)` /
 *   `saveIdentity(home, file)`.
 * - `publicIdentity(identity)` — what may be shown (never a private key).
 * - `rotateIdentity(home)` / `identityRevocation(identity, reason)` /
 *   `recordIdentityRevocation(home, rev)` — the key event log of the identity.
 * - `createApiToken(home)` / `readApiToken(home)` / `ensureApiToken(home)`.
 * - `createCustodyKey(home)` / `readCustodyKey(home)` / `ensureCustodyKey(home)` —
 *   the key that seals custodied agent seeds in the database.
 *
 * Errors: `NO_IDENTITY` (run meshsig init), `ALREADY_EXISTS` (init without
 * --force), `INSECURE_KEY_FILE` (chmod 600), `MALFORMED` (corrupt file).
 */
export { API_TOKEN_FILE, HOME_ENV, IDENTITY_FILE, apiTokenPath, identityPath, resolveHome } from './home.js'
export {
  IDENTITY_FILE_VERSION,
  checkIdentityFile,
  identityFileSchema,
  newIdentityFile,
  parseIdentityFile,
  type Identity,
  type IdentityFile,
} from './identity-file.js'
export {
  createIdentity,
  replaceIdentity,
  identityExists,
  loadIdentity,
  publicIdentity,
  saveIdentity,
  type CreateIdentityOptions,
  type PublicIdentity,
} from './identity-store.js'
export { API_TOKEN_BYTES, apiTokenMatches, createApiToken, ensureApiToken, readApiToken } from './api-token.js'
export {
  CUSTODY_KEY_FILE,
  CUSTODY_KEY_LENGTH,
  createCustodyKey,
  custodyKeyPath,
  ensureCustodyKey,
  readCustodyKey,
} from './custody-key.js'
export {
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  ensurePrivateDir,
  readPrivateFile,
  removeCrashLeftovers,
  writeFileAtomic,
  type WriteOptions,
} from './secure-fs.js'
export {
  identityRevocation,
  recordIdentityRevocation,
  rotateIdentity,
  rotatedIdentityFile,
  type IdentityRotation,
  type RotateIdentityOptions,
} from './rotation.js'
