import { API_TOKEN_SCOPES } from '#contract/vocabulary';
import type { ApiToken } from '#contract/dto';
import type { Core } from '../core/createCore';
import { contractInput } from './contractInput';
import { defineCommand, defineGroup } from './declare/commandSpec';
import { text, value } from './declare/options';
import { arg } from './declare/positionals';
import { terminalSafe } from './format';
import { printList } from './listOutput';
import { withCore } from './openCore';
import { printResult } from './output';
import { coreOptions, jsonOption } from './sharedOptions';
import { UsageError } from './usageError';

const noWatch = { library: { watch: false } };
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `30d`, `12h`, `90m`, `2w` → milliseconds; `never` → null. */
export function parseExpiry(raw: string, flag: string, command: string): number | null {
  if (/^never$/i.test(raw.trim())) return null;
  const match = /^(\d{1,5})\s*([mhdw])$/i.exec(raw.trim());
  const amount = match ? Number(match[1]) : 0;
  if (!match || amount < 1) throw new UsageError(`${flag} must be a duration like 30d, 12h, 90m or 2w (or "never"), not "${raw}"`, command);
  return amount * UNIT_MS[match[2]!.toLowerCase() as keyof typeof UNIT_MS];
}

const SCOPE_HELP = `What the token may do (repeat for several): ${API_TOKEN_SCOPES.join(', ')},
or documents:COLLECTION (a collection's name or id)`;

const create = defineCommand({
  name: 'create',
  summary: 'Create an API token for the local API and MCP (shown once)',
  description: `Creates an API token for the OpenAI/Anthropic-compatible API (/v1) and the MCP server
(/mcp, \`hearth mcp\` needs none). The token is printed once: only its hash is stored, so copy it
now. Scopes: chat (chat completions and messages), embeddings, models:manage (load and unload
models), documents:* (search every collection) or documents:COLLECTION (one collection).`,
  options: {
    scope: text('SCOPE', SCOPE_HELP).repeat(),
    expires: value('DURATION', 'Expire after this long: 30d, 12h, 90m, 2w (default: never)', parseExpiry),
    ...jsonOption('Print { token, secret } as JSON'),
    ...coreOptions,
  },
  positionals: { name: arg('NAME', 'A name to tell the token by (the app or device using it)', 'tokens create takes exactly one NAME') },
  run: ({ command, options, args }, ctx) => {
    if (options.scope.length === 0) throw new UsageError(`give at least one --scope (${API_TOKEN_SCOPES.join(', ')}, documents:COLLECTION)`, command);
    const expiresAt = options.expires ? Date.now() + options.expires : null;
    const input = contractInput('apiTokens.create', { name: args.name, scopes: options.scope, expiresAt }, command, { name: 'NAME', scopes: '--scope' });
    return withCore(
      options,
      ctx,
      async (core) => {
        const created = core.apiTokens.create(input);
        printResult(ctx, options.json, created, () =>
          [
            `Created the API token "${terminalSafe(created.token.name)}" (${created.token.id}) with ${scopeWords(core, created.token)}.`,
            'Copy it now; it is not shown again:',
            '',
            `  ${created.secret}`,
            '',
          ].join('\n'),
        );
        return 0;
      },
      noWatch,
    );
  },
});

const list = defineCommand({
  name: 'list',
  summary: 'API tokens: name, scopes, created, expires, last used, revoked',
  description: 'Lists API tokens (never the tokens themselves): their scopes, when they were created and last used, and whether they expired or were revoked.',
  options: { ...jsonOption('Print the list as JSON'), ...coreOptions },
  positionals: {},
  run: ({ options }, ctx) =>
    withCore(
      options,
      ctx,
      async (core) => {
        const tokens = core.apiTokens.list();
        const now = Date.now();
        printList(ctx, options.json, tokens, {
          empty: 'No API tokens. Create one with: hearth tokens create NAME --scope chat',
          columns: ['ID', 'NAME', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
          row: (t) => [
            t.id,
            terminalSafe(t.name),
            scopeWords(core, t),
            when(t.createdAt),
            t.expiresAt === null ? 'never' : when(t.expiresAt),
            t.lastUsedAt === null ? 'never' : when(t.lastUsedAt),
            t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active',
          ],
        });
        return 0;
      },
      noWatch,
    ),
});

const revoke = defineCommand({
  name: 'revoke',
  summary: 'Revoke an API token at once',
  description: 'Revokes an API token: the next request that presents it gets 401, also on a server that is running now.',
  options: { ...jsonOption('Print the revoked token as JSON'), ...coreOptions },
  positionals: { id: arg('ID', 'The token’s id (tok_…, from hearth tokens list)', 'tokens revoke takes exactly one ID') },
  run: ({ command, options, args }, ctx) => {
    const input = contractInput('apiTokens.revoke', { tokenId: args.id }, command, { tokenId: 'ID' });
    return withCore(
      options,
      ctx,
      async (core) => {
        const revoked = core.apiTokens.revoke(input.tokenId);
        printResult(ctx, options.json, revoked, `Revoked the API token "${terminalSafe(revoked.name)}" (${revoked.id}).`);
        return 0;
      },
      noWatch,
    );
  },
});

/** Scopes as a person reads them: collections by name. */
function scopeWords(core: Core, token: ApiToken): string {
  return token.scopes
    .map((scope) => {
      const id = scope.startsWith('documents:') && scope !== 'documents:*' ? scope.slice('documents:'.length) : null;
      const name = id ? core.library.findCollection(id)?.name : null;
      return name ? `documents:${terminalSafe(name)}` : scope;
    })
    .join(',');
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `hearth tokens create|list|revoke`. */
export const tokensCommand = defineGroup({
  name: 'tokens',
  summary: 'create, list, revoke: API tokens for the local API and MCP',
  commands: [create, list, revoke],
});
