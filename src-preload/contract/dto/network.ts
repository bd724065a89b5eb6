/** What crosses the network: the ledger of outbound requests, and the local API's tokens. */

import type { NetworkPurpose } from '../vocabulary';

/** One outbound HTTP request, as the network ledger recorded it when it ended. */
export interface NetworkRequest {
  id: number;
  /** When the request started (ms since the epoch). */
  at: number;
  /** host[:port] the request went to. */
  host: string;
  /** The host is this machine (localhost, 127.0.0.0/8, ::1): nothing left it. */
  local: boolean;
  purpose: NetworkPurpose;
  method: string;
  /** The HTTP status, or null when no answer came (refused, reset, timed out, cancelled). */
  status: number | null;
  /** HTTP bytes sent: request line, headers and body (TLS framing not counted). */
  bytesOut: number;
  /** HTTP bytes received: status line, headers and body as they came (compressed, if so). */
  bytesIn: number;
  durationMs: number;
  /** Why no answer came, when none did. */
  error: string | null;
}

/** Everything recorded for one host and purpose since the ledger began (never pruned). */
export interface NetworkHostTotal {
  host: string;
  local: boolean;
  purpose: NetworkPurpose;
  requests: number;
  bytesOut: number;
  bytesIn: number;
  firstAt: number;
  lastAt: number;
}

export interface NetworkLedgerView {
  /** When this data directory's ledger began: the totals count from here. */
  since: number;
  /** Requests to other machines since then: zero requests means nothing has left this machine. */
  remote: { requests: number; bytesOut: number; bytesIn: number };
  hosts: NetworkHostTotal[];
  /** The newest requests first; older ones are pruned (see retention), their totals kept. */
  requests: NetworkRequest[];
  retention: { maxRequests: number; maxAgeDays: number };
}

/** An API token as listed: never the token itself, which is shown once, at creation. */
export interface ApiToken {
  id: string;
  name: string;
  /** `chat`, `embeddings`, `models:manage`, `documents:*` or `documents:<collection id>`. */
  scopes: string[];
  createdAt: number;
  /** Null: never expires. */
  expiresAt: number | null;
  /** Null: never used. Updated at most once a minute. */
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** What creating a token returns: the record, and the secret to copy now (it is not stored). */
export interface ApiTokenCreated {
  token: ApiToken;
  secret: string;
}
