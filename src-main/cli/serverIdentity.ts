import type { SecretStore } from '../core/ports/secretStore';
import { assertValidToken, newToken } from './localAccess';

/** The secret that holds the server's port and token: encrypted at rest (secrets.json, 0600) or in the keychain. */
export const SERVER_IDENTITY_SECRET = 'server.identity';

/** What makes a bookmarked URL and an open page survive a restart: the same port, the same token. */
export interface ServerIdentity {
  port: number;
  token: string;
}

export interface IdentityRequest {
  /** --port: this port from now on (0: a free one, remembered once chosen). */
  port?: number;
  /** --new-token: forget the old token (every browser session and script that used it). */
  renewToken: boolean;
}

export interface ChosenIdentity {
  /** The port to ask for (0: a free one). */
  port: number;
  token: string;
  /** True when the port comes from the store rather than from --port (so a busy one may give way). */
  portRemembered: boolean;
  /** Why the stored identity could not be used, for a warning; null when all is well. */
  problem: string | null;
}

/** The stored identity, or null when there is none or it is not one this version can use. */
export async function readServerIdentity(secrets: SecretStore): Promise<ServerIdentity | null> {
  const raw = await secrets.get(SERVER_IDENTITY_SECRET);
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<ServerIdentity> | null;
    if (typeof value?.port !== 'number' || !Number.isInteger(value.port) || value.port < 1 || value.port > 65_535) return null;
    if (typeof value.token !== 'string') return null;
    assertValidToken(value.token);
    return { port: value.port, token: value.token };
  } catch {
    return null;
  }
}

export function writeServerIdentity(secrets: SecretStore, identity: ServerIdentity): Promise<void> {
  return secrets.set(SERVER_IDENTITY_SECRET, JSON.stringify(identity));
}

/**
 * The port and token for this start: the remembered ones unless --port or --new-token say
 * otherwise. A store that cannot be read (a damaged secrets file, a keyring that does not
 * answer) does not keep the server from starting: it gets a fresh token, and the reason.
 */
export async function chooseServerIdentity(secrets: SecretStore, request: IdentityRequest): Promise<ChosenIdentity> {
  let stored: ServerIdentity | null = null;
  let problem: string | null = null;
  try {
    stored = await readServerIdentity(secrets);
  } catch (error) {
    problem = `the saved port and token could not be read (${error instanceof Error ? error.message : String(error)})`;
  }
  const token = !request.renewToken && stored ? stored.token : newToken();
  if (request.port !== undefined) return { port: request.port, token, portRemembered: false, problem };
  return { port: stored?.port ?? 0, token, portRemembered: stored !== null, problem };
}
