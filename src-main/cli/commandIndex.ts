import type { Node } from './declare/commandSpec';

/** A top-level command by name, with its module loaded only when asked for. */
export interface CommandEntry {
  name: string;
  load(): Promise<Node>;
}

/**
 * Every top-level command of `hearth`, by name, in the order of commands.ts (a unit test
 * keeps the two the same). main.ts loads only the module of the command it runs, so a
 * command starts with what it needs and nothing else: `hearth search` never loads the
 * server, MCP, the vault's crypto or the model downloader. Help loads them all (commands.ts).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'serve', load: async () => (await import('./serveCommand')).serveCommand },
  { name: 'chat', load: async () => (await import('./chatCommand')).chatCommand },
  { name: 'models', load: async () => (await import('./models/modelsCommand')).modelsCommand },
  { name: 'threads', load: async () => (await import('./threadsCommand')).threadsCommand },
  { name: 'index', load: async () => (await import('./library/indexCommand')).indexCommand },
  { name: 'search', load: async () => (await import('./library/searchCommand')).searchCommand },
  { name: 'collections', load: async () => (await import('./library/collectionsCommand')).collectionsCommand },
  { name: 'docs', load: async () => (await import('./library/docsCommand')).docsCommand },
  { name: 'vault', load: async () => (await import('./vault/vaultCommand')).vaultCommand },
  { name: 'network', load: async () => (await import('./networkCommand')).networkCommand },
  { name: 'receipts', load: async () => (await import('./receiptsCommand')).receiptsCommand },
  { name: 'verify', load: async () => (await import('./verifyCommand')).verifyCommand },
  { name: 'tokens', load: async () => (await import('./tokensCommand')).tokensCommand },
  { name: 'mcp', load: async () => (await import('./mcp/mcpCommand')).mcpCommand },
];
