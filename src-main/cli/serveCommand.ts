import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineCommand } from './declare/commandSpec';
import { integer, text } from './declare/options';
import { backendLine } from './format';
import { openCore } from './openCore';
import { startServer, type HearthServer } from './server';
import { coreOptions } from './sharedOptions';

/** `hearth serve`: the core plus the local server, until SIGINT/SIGTERM. */
export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Start the local server; open the printed URL in any browser',
  description: `Starts the core and a local HTTP server on 127.0.0.1 with a random per-start token, and
prints one line: "Hearth is running at http://127.0.0.1:PORT/?code=CODE". Open it in a
browser for the same UI as the desktop app. The URL works once: its code is exchanged for a
session cookie that only this server gets. For another browser, press Enter (or send the
process SIGUSR2) and a new line with a new one-time URL is printed. Requests without the
session are refused. Stop with Ctrl+C (or SIGTERM).`,
  options: {
    port: integer('N', 'Port to listen on (default 0: a free port)', { min: 0, max: 65_535 }).orElse(0),
    'renderer-dir': text('DIR', 'The built UI to serve (default: out/renderer)'),
    ...coreOptions,
  },
  positionals: {},
  async run({ options }, ctx) {
    const rendererDir = resolve(options['renderer-dir'] ?? ctx.defaultRendererDir);
    const core = openCore(options, ctx, 'info', {}, { serving: true });
    let server: HearthServer | null = null;
    // Listen before the slow parts, so Ctrl+C during start-up still shuts down cleanly.
    let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
    const stopped = new Promise<NodeJS.Signals>((done) => (stopRequested = done));
    const unsubscribe = ctx.onSignal((signal) => stopRequested(signal));
    // Until the server is up there is no URL to hand out; a request before that is ignored.
    const stopUrlRequests = ctx.onUserRequest(() => {
      if (server) ctx.stdout(`Hearth is running at ${server.newUrl()}\n`);
    });
    try {
      // Start the backend first: the UI asks for it at once, and a failure belongs here.
      const backend = await core.runtime.backendInfo();
      server = await startServer(core, { port: options.port, rendererDir });
      ctx.stderr(`Data directory: ${core.config.dataDir}\n`);
      ctx.stderr(`${backendLine(backend)}\n`);
      if (!existsSync(join(rendererDir, 'index.html'))) {
        ctx.stderr(`WARNING: no UI at ${rendererDir}; run \`npm run build\` (the WebSocket API works without it).\n`);
      }
      ctx.stdout(`Hearth is running at ${server.url}\n`);
      ctx.stderr(`That URL works once. For another, press Enter (or kill -USR2 ${ctx.pid}). Press Ctrl+C to stop.\n`);
      const signal = await stopped;
      ctx.stderr(`Stopping (${signal})…\n`);
      return 0;
    } finally {
      stopUrlRequests();
      unsubscribe();
      await server?.close();
      await core.dispose();
    }
  },
});
