import { chatCommand } from './chatCommand';
import { defineGroup } from './declare/commandSpec';
import { collectionsCommand } from './library/collectionsCommand';
import { docsCommand } from './library/docsCommand';
import { indexCommand } from './library/indexCommand';
import { searchCommand } from './library/searchCommand';
import { mcpCommand } from './mcp/mcpCommand';
import { modelsCommand } from './models/modelsCommand';
import { networkCommand } from './networkCommand';
import { receiptsCommand } from './receiptsCommand';
import { serveCommand } from './serveCommand';
import { threadsCommand } from './threadsCommand';
import { tokensCommand } from './tokensCommand';
import { vaultCommand } from './vault/vaultCommand';
import { verifyCommand } from './verifyCommand';

/** Every command of `hearth`, declared; main.ts dispatches through this tree and generates help from it. */
export const rootCommand = defineGroup({
  name: '',
  summary: '',
  commands: [serveCommand, chatCommand, modelsCommand, threadsCommand, indexCommand, searchCommand, collectionsCommand, docsCommand, vaultCommand, networkCommand, receiptsCommand, verifyCommand, tokensCommand, mcpCommand],
});

export const ROOT_TEXT = {
  title: 'hearth: personal, sovereign AI with local models',
  footer: 'Every command takes --data-dir DIR. Logs go to stderr ($HEARTH_LOG=debug|info|warn|error|silent).',
};
