import { z } from 'zod';
import type { HubFile, HubModelSummary } from '#contract/dto';
import { purposeFetch } from '../common/egress';
import { HearthError } from '../common/hearthError';
import { httpError, networkError } from '../common/httpErrors';
import { nodeLlamaCpp } from './nodeLlamaCpp';

/** The secret store's name for the Hugging Face token. */
export const HUB_TOKEN_SECRET = 'huggingface.token';

export interface HubClientOptions {
  /** Base URL of the hub or a mirror, read on every call so a settings change applies at once. */
  endpoint: () => string;
  /** The user's Hugging Face token, if they stored one. */
  token: () => Promise<string | null>;
  /** Keeps (or, with null, forgets) the token where the host keeps secrets; without it the token is read-only. */
  saveToken?: (token: string | null) => Promise<void>;
  fetch?: typeof fetch;
}

/** A hub that answers nothing in this long is treated as unreachable. */
const TIMEOUT_MS = 30_000;
/** The tree API pages its listing; no GGUF repository needs more than this many pages. */
const MAX_TREE_PAGES = 50;

const searchItem = z.object({
  id: z.string().min(1),
  downloads: z.number().optional(),
  likes: z.number().optional(),
  gated: z.union([z.boolean(), z.string()]).optional(),
  lastModified: z.string().optional(),
});

const treeItem = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().optional(),
  lfs: z.object({ oid: z.string(), size: z.number() }).partial().optional(),
});

/**
 * The parts of the Hugging Face hub API Hearth uses: search GGUF repositories, list a
 * repository's GGUF files with the size and sha256 the hub publishes, and build download URLs.
 * Works against any endpoint that answers in the same shape (mirrors, the tests' server).
 */
export class HubClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HubClientOptions) {
    this.fetchImpl = options.fetch ?? purposeFetch('hub-api');
  }

  /** GGUF repositories matching the query, most downloaded first. */
  async search(query: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<HubModelSummary[]> {
    const limit = Math.min(100, Math.max(1, Math.floor(options.limit ?? 20)));
    const params = new URLSearchParams();
    if (query.trim()) params.set('search', query.trim());
    params.set('filter', 'gguf');
    params.set('sort', 'downloads');
    params.set('direction', '-1');
    params.set('limit', String(limit));
    // The list API returns only a few fields unless asked; these are the ones the UI shows.
    for (const field of ['downloads', 'likes', 'gated', 'lastModified']) params.append('expand', field);
    const { body } = await this.getJson(`${this.base()}/api/models?${params.toString()}`, { signal: options.signal });
    const items = z.array(z.unknown()).safeParse(body);
    if (!items.success) throw this.badShape('search results');
    const results: HubModelSummary[] = [];
    for (const raw of items.data) {
      const item = searchItem.safeParse(raw);
      if (!item.success) continue; // one odd entry should not hide the rest
      results.push({
        repo: item.data.id,
        downloads: item.data.downloads ?? 0,
        likes: item.data.likes ?? 0,
        // The hub says false, "auto" or "manual"; anything but false needs an accepted licence.
        gated: item.data.gated !== undefined && item.data.gated !== false && item.data.gated !== 'false',
        updatedAt: item.data.lastModified ?? null,
      });
    }
    return results.sort((a, b) => b.downloads - a.downloads).slice(0, limit);
  }

  /**
   * The repository's GGUF files with exact sizes and the LFS sha256 the hub publishes,
   * smallest first (which for one model is lowest quality first), the parts of a split file
   * together and in order. Vision projectors (mmproj-*.gguf) are left out: they are not
   * models on their own.
   */
  async files(repo: string, options: { revision?: string; signal?: AbortSignal } = {}): Promise<HubFile[]> {
    const revision = options.revision ?? 'main';
    let url: string | null = `${this.base()}/api/models/${encodePath(repo)}/tree/${encodeURIComponent(revision)}?recursive=true`;
    const files: HubFile[] = [];
    for (let page = 0; url && page < MAX_TREE_PAGES; page++) {
      const { body, response } = await this.getJson(url, { signal: options.signal, repo });
      const items = z.array(z.unknown()).safeParse(body);
      if (!items.success) throw this.badShape(`file list of ${repo}`);
      for (const raw of items.data) {
        const item = treeItem.safeParse(raw);
        if (!item.success || item.data.type !== 'file') continue;
        const path = item.data.path;
        const name = path.split('/').pop() ?? path;
        if (!/\.gguf$/i.test(name) || /^mmproj/i.test(name)) continue;
        const sha = item.data.lfs?.oid;
        files.push({
          file: path,
          sizeBytes: item.data.lfs?.size ?? item.data.size ?? null,
          // Only LFS files carry a sha256; a small file's oid is a git SHA-1 and says nothing here.
          sha256: sha && /^[0-9a-f]{64}$/i.test(sha) ? sha.toLowerCase() : null,
          quantization: await parseQuantization(name),
        });
      }
      url = nextPage(response, url);
    }
    return sortFiles(files);
  }

  /** Download URL of a file; each path segment is encoded, the slashes between them kept. */
  resolveUrl(repo: string, file: string, revision = 'main'): string {
    return `${this.base()}/${encodePath(repo)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
  }

  /** Stores the user's Hugging Face token (null forgets it); the next request uses it. */
  async setToken(token: string | null): Promise<void> {
    if (!this.options.saveToken) throw new HearthError('UNSUPPORTED', 'This hub client cannot store a token.');
    await this.options.saveToken(token);
  }

  /** Headers that authenticate a request to the hub, empty when no token is stored. */
  async authHeaders(): Promise<Record<string, string>> {
    const token = (await this.options.token())?.trim();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  private base(): string {
    return this.options.endpoint().replace(/\/+$/, '');
  }

  private badShape(what: string): HearthError {
    return new HearthError('NETWORK_ERROR', `${this.base()} answered with unexpected ${what}; is the hub endpoint right?`);
  }

  private async getJson(url: string, context: { signal?: AbortSignal; repo?: string }): Promise<{ body: unknown; response: Response }> {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    const signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchImpl(url, { headers: { accept: 'application/json', ...(await this.authHeaders()) }, signal });
      text = await response.text();
    } catch (error) {
      throw hubNetworkError(error, this.base(), context.signal);
    }
    if (!response.ok) throw statusError(response, text, context.repo);
    try {
      return { body: JSON.parse(text) as unknown, response };
    } catch {
      throw new HearthError('NETWORK_ERROR', `${this.base()} answered ${response.status} but not with JSON; is the hub endpoint right?`);
    }
  }
}

/** A request to the hub (or a file on it) that got no answer: CANCELLED or NETWORK_ERROR, in the hub's words. */
export function hubNetworkError(error: unknown, endpoint: string, signal?: AbortSignal, timeoutMs = TIMEOUT_MS): HearthError {
  return networkError(error, {
    signal,
    message: (failure) =>
      `Could not reach ${endpoint}: ${failure.kind === 'timeout' ? `no answer within ${timeoutMs / 1000} s` : describeNetworkFailure(failure.code, failure.message)}`,
  });
}

/**
 * An HTTP error status from the hub (or a file on it), in the hub's words: a refusal there is a
 * gated model (MODEL_GATED); the X-Error-Code header names a missing repository, revision or file.
 */
export function statusError(response: Response, body: string, subject?: string): HearthError {
  const what = subject ?? 'This model';
  // Only a repository name makes a page link; a file URL is shown as it is.
  const page = subject && /^[\w.-]+\/[\w.-]+$/.test(subject) ? `huggingface.co/${subject}` : 'its Hugging Face page';
  const detail = hubMessage(body);
  return httpError(
    response,
    ({ kind, status, statusText, errorCode }) => {
      if (errorCode === 'RepoNotFound') return `${what} was not found on the hub`;
      if (errorCode === 'RevisionNotFound' || errorCode === 'EntryNotFound') return `${what}: ${detail ?? 'that revision or file was not found on the hub'}`;
      if (status === 401 || errorCode === 'GatedRepo') {
        return `${what} is gated: add a Hugging Face access token in Settings (hub token), and accept the model's licence at ${page}.`;
      }
      if (kind === 'refused') {
        return `${what} is gated and the Hugging Face token has no access to it: accept the model's licence at ${page} with the account the token belongs to, or store another token.`;
      }
      if (kind === 'not-found') return subject ? `${subject} was not found on the hub (${status})` : `The hub has no such page (${status}); is the hub endpoint right?`;
      return `The hub answered ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}`;
    },
    { refused: 'MODEL_GATED' },
  );
}

let quantPattern: RegExp | null = null;

/** node-llama-cpp's list of quantization names, longest first so IQ2_XXS wins over IQ2_XS. */
async function quantizationPattern(): Promise<RegExp> {
  const { ggufFileQuantNames } = await nodeLlamaCpp();
  quantPattern ??= new RegExp(
    `(?:^|[-_.\\s])(${[...ggufFileQuantNames, 'FP16', 'FP32']
      .sort((a, b) => b.length - a.length)
      .map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|')})(?=$|[-_.\\s])`,
    'gi',
  );
  return quantPattern;
}

/**
 * The quantization a GGUF file name states, upper case (Q4_K_M, Q8_0, IQ4_XS, F16, BF16...),
 * or null. The last match wins, since names end with the quantization.
 */
export async function parseQuantization(fileName: string): Promise<string | null> {
  const name = (fileName.split('/').pop() ?? fileName).replace(/\.gguf$/i, '');
  let last: string | null = null;
  for (const match of name.matchAll(await quantizationPattern())) last = match[1] ?? null;
  if (!last) return null;
  const upper = last.toUpperCase();
  return upper === 'FP16' ? 'F16' : upper === 'FP32' ? 'F32' : upper;
}

/** Orders by the size of the whole model a file belongs to, so split parts stay together. */
function sortFiles(files: HubFile[]): HubFile[] {
  const group = (file: string) => file.replace(/-\d{5}-of-\d{5}\.gguf$/i, '.gguf');
  const totals = new Map<string, number>();
  for (const f of files) totals.set(group(f.file), (totals.get(group(f.file)) ?? 0) + (f.sizeBytes ?? Number.MAX_SAFE_INTEGER));
  const total = (f: HubFile) => totals.get(group(f.file)) ?? 0;
  return files.sort((a, b) => total(a) - total(b) || group(a.file).localeCompare(group(b.file)) || a.file.localeCompare(b.file));
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Follows the hub's `Link: <...>; rel="next"` pagination, only to the same origin. */
function nextPage(response: Response, current: string): string | null {
  const link = response.headers.get('link');
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link) : null;
  if (!match?.[1]) return null;
  try {
    const next = new URL(match[1], current);
    return next.origin === new URL(current).origin ? next.href : null;
  } catch {
    return null;
  }
}

function hubMessage(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string' && parsed.error) return parsed.error.slice(0, 300);
  } catch {
    // not JSON: an HTML error page says nothing useful in a sentence
  }
  return null;
}

function describeNetworkFailure(code: string | undefined, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name could not be resolved (${code})`;
    case 'ECONNRESET':
      return 'the connection was reset (ECONNRESET)';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `the connection timed out (${code})`;
    default:
      return message;
  }
}
