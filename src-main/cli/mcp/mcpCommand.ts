import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { defineCommand } from '../declare/commandSpec';
import { text } from '../declare/options';
import { openCore } from '../openCore';
import { coreOptions } from '../sharedOptions';
import { UsageError } from '../usageError';
import { createLibraryMcpServer } from './libraryTools';

/** `hearth mcp`: the MCP server for your documents over stdio, for clients that launch a command. */
export const mcpCommand = defineCommand({
  name: 'mcp',
  summary: 'Serve your documents to an MCP client over stdio',
  description: `Speaks the Model Context Protocol on stdin/stdout, for MCP clients that launch a command
(Claude Desktop, editors, agents): the tools list_collections, search_documents and
read_passage search your indexed documents, as the UI's search does. It opens the data
directory like every other command, so it needs no API token: whoever can run it can read the
data directory anyway. --collection limits it to some collections. Logs go to stderr. It
ends when the client closes stdin (or on Ctrl+C). Over HTTP the same tools are at /mcp on
\`hearth serve\`, for API tokens with a documents scope.`,
  options: {
    collection: text('NAME', 'Only this collection (name or id); repeat for several (default: all)').repeat(),
    ...coreOptions,
  },
  positionals: {},
  async run({ command, options }, ctx) {
    const core = openCore(options, ctx, 'warn', { watch: false });
    try {
      const reach = options.collection.length === 0 ? 'all' : new Set(options.collection.map((name) => {
        const found = core.library.findCollection(name);
        if (!found) throw new UsageError(`No collection named "${name}"`, command);
        return found.id;
      }));
      const server = createLibraryMcpServer(core.library, reach, ctx.version);
      const closed = new Promise<void>((done) => (server.server.onclose = done));
      const unsubscribe = ctx.onSignal(() => void server.close());
      ctx.stdio.input.once('end', () => void server.close());
      await server.connect(new StdioServerTransport(ctx.stdio.input, ctx.stdio.output));
      await closed;
      unsubscribe();
      return 0;
    } finally {
      await core.dispose();
    }
  },
});
