import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openBrowser } from './browserOpener';
import { defineCommand } from './declare/commandSpec';
import { flag, integer, text } from './declare/options';
import { LanHosts } from './api/lanAccess';
import { HearthError } from '../core/common/hearthError';
import { backendLine } from './format';
import { openCore } from './openCore';
import type { HearthServer } from './server';
import { chooseServerIdentity, writeServerIdentity, type ServerIdentity } from './serverIdentity';
import type { CliContext } from './cliContext';
import type { Core } from '../core/createCore';
import type { HostControl } from '../core/ports/hostControl';
import { coreOptions } from './sharedOptions';

/** `hearth serve`: the core plus the local server, until SIGINT/SIGTERM. */
export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'Start the local server; open the printed URL in any browser',
  description: `Starts the core and a local HTTP server on 127.0.0.1, and prints one line:
"Hearth is running at http://127.0.0.1:PORT/?code=CODE". Open it in a browser for the same
UI as the desktop app. The URL works once: its code is exchanged for a session cookie that
only this server gets. For another browser, press Enter (or send the process SIGUSR2) and a
new line with a new one-time URL is printed. Requests without the session are refused.
The port and the access token are kept with Hearth's other secrets (the keychain, else the
data directory, encrypted), so after a restart open pages reconnect and reloads work;
--port and --new-token change them.
Stop with Ctrl+C (or SIGTERM).
The local API (/v1, OpenAI- and Anthropic-compatible) and MCP (/mcp) are served too, to
holders of an API token (hearth tokens create). With --lan they are also served to other
devices on your network (the UI stays on 127.0.0.1); --lan refuses to start without an API token.`,
  options: {
    port: integer('N', 'Listen on port N from now on (0: a free one). Default: the port of the last start, else a free one', {
      min: 0,
      max: 65_535,
    }),
    'new-token': flag('Make a new access token: signs out every open page and script that used the old one'),
    open: flag('Open the UI in the default browser ($BROWSER, else the system opener)'),
    'renderer-dir': text('DIR', 'The built UI to serve (default: out/renderer)'),
    lan: flag(`Also serve the API and MCP (only those, API tokens only, no TLS) to other devices: binds 0.0.0.0
(also on when the setting "Serve other devices" is)`),
    ...coreOptions,
  },
  positionals: {},
  async run({ options }, ctx) {
    const rendererDir = resolve(options['renderer-dir'] ?? ctx.defaultRendererDir);
    // Listen before the slow parts, so Ctrl+C during start-up still shuts down cleanly.
    let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
    const stopped = new Promise<NodeJS.Signals>((done) => (stopRequested = done));
    const unsubscribe = ctx.onSignal((signal) => stopRequested(signal));
    let server: HearthServer | null = null;
    // Until the server is up there is no URL to hand out; a request before that is ignored.
    const stopUrlRequests = ctx.onUserRequest(() => {
      if (server) ctx.stdout(`Hearth is running at ${server.newUrl()}\n`);
    });
    // The page's "switch to the restored data": this core closes and the other opens behind the
    // same port and token, so open pages reconnect and their session still counts.
    let switchTo: (dataDir: string) => void = () => undefined;
    const host: HostControl = {
      canSwitchDataDir: true,
      // After the call's answer has gone out: the switch closes the connection it came on.
      switchDataDir: (dataDir) => void setTimeout(() => switchTo(dataDir), 50),
    };
    let dataDirArg = options['data-dir'];
    let keep: ServerIdentity | null = null;
    try {
      for (;;) {
        const switched = new Promise<string>((done) => (switchTo = done));
        const core = openCore({ ...options, 'data-dir': dataDirArg }, ctx, 'info', {}, { serving: true, host });
        try {
          server = await serveCore(core, { rendererDir, keep, port: options.port, renewToken: options['new-token'] && keep === null, lan: options.lan }, ctx);
          if (keep === null && options.open) {
            // A URL of its own, so the printed one still works for another browser.
            const opened = await openBrowser(server.newUrl(), ctx.env);
            if (!opened.ok) ctx.stderr(`WARNING: could not open a browser (${opened.message}); open the URL above instead.\n`);
          }
          const next = await Promise.race([stopped, switched.then((dataDir) => ({ dataDir }))]);
          if (typeof next === 'string') {
            ctx.stderr(`Stopping (${next})…\n`);
            return 0;
          }
          ctx.stderr(`Switching to the data directory ${next.dataDir}…\n`);
          keep = { port: server.port, token: server.token };
          dataDirArg = next.dataDir;
        } finally {
          await server?.close();
          server = null;
          await core.dispose();
        }
      }
    } finally {
      stopUrlRequests();
      unsubscribe();
    }
  },
});

interface ServeOptions {
  rendererDir: string;
  /** After a switch: the port and token to keep, so open pages stay signed in. */
  keep: ServerIdentity | null;
  port: number | undefined;
  renewToken: boolean;
  /** --lan: also serve the API and MCP to other devices (the lan setting turns it on too). */
  lan: boolean;
}

/** Starts the server for one core and prints where it runs. */
async function serveCore(core: Core, options: ServeOptions, ctx: CliContext): Promise<HearthServer> {
  const { rendererDir, keep } = options;
  const lan = options.lan || core.settings.get().localApiLan;
  if (lan && core.apiTokens.activeCount() === 0) {
    throw new HearthError(
      'UNAUTHORIZED',
      '--lan needs at least one API token, since other devices get in only with one: create it with `hearth tokens create NAME --scope chat` (or in Settings → Local API), then start again.',
    );
  }
  // Start the backend first: the UI asks for it at once, and a failure belongs here.
  const backend = await core.runtime.backendInfo();
  const identity = keep
    ? { ...keep, portRemembered: false, problem: null }
    : await chooseServerIdentity(core.secrets, { port: options.port, renewToken: options.renewToken });
  if (identity.problem) ctx.stderr(`WARNING: ${identity.problem}; using a new token for this start.\n`);
  // The HTTP and WebSocket server (ws) loads here: the other commands never pay for it.
  const { isPortInUse, startServer } = await import('./server');
  const server = await startServer(core, { port: identity.port, token: identity.token, rendererDir, lan }).catch((error: unknown) => {
    // The remembered port is taken (another program got it meanwhile): a free one this time,
    // and the remembered one is tried again next start.
    if (!identity.portRemembered || !isPortInUse(error)) throw error;
    ctx.stderr(`WARNING: port ${identity.port} (used last time) is taken; using a free one for this start.\n`);
    return startServer(core, { port: 0, token: identity.token, rendererDir, lan });
  });
  // A port taken from under us stays the remembered one; a new token is remembered at once.
  const port = identity.portRemembered ? identity.port : server.port;
  if (!identity.problem) await writeServerIdentity(core.secrets, { port, token: server.token });
  ctx.stderr(`Data directory: ${core.config.dataDir}\n`);
  ctx.stderr(`${backendLine(backend)}\n`);
  if (!existsSync(join(rendererDir, 'index.html'))) {
    ctx.stderr(`WARNING: no UI at ${rendererDir}; run \`npm run build\` (the WebSocket API works without it).\n`);
  }
  if (lan) {
    const where = LanHosts.addresses().map((address) => `http://${address}:${server.port}/v1`);
    ctx.stderr(`LAN: the API and MCP (API tokens only, no TLS) are served to other devices at ${where.join(', ') || `port ${server.port}`}.\n`);
  }
  ctx.stdout(`Hearth is running at ${server.url}\n`);
  ctx.stderr(`That URL works once. For another, press Enter (or kill -USR2 ${ctx.pid}). Press Ctrl+C to stop.\n`);
  return server;
}
