import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliContext } from './cliContext';
import { commandArgs, coreOptions, parseInteger } from './commandArgs';
import { backendLine } from './format';
import { helpText } from './helpText';
import { openCore } from './openCore';
import { startServer, type HearthServer } from './server';
import { UsageError } from './usageError';

/** `hearth serve`: the core plus the local server, until SIGINT/SIGTERM. */
export async function serveCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = commandArgs('serve', args, {
    ...coreOptions,
    port: { type: 'string' },
    'renderer-dir': { type: 'string' },
  });
  if (values.help) {
    ctx.stdout(`${helpText.serve}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`, 'serve');
  const port = parseInteger(values.port, '--port', 'serve', { min: 0, max: 65_535 }) ?? 0;
  const rendererDir = resolve(values['renderer-dir'] ?? ctx.defaultRendererDir);

  const core = openCore('serve', values, ctx, 'info');
  let server: HearthServer | null = null;
  // Listen before the slow parts, so Ctrl+C during start-up still shuts down cleanly.
  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((done) => (stopRequested = done));
  const unsubscribe = ctx.onSignal((signal) => stopRequested(signal));
  try {
    // Start the backend first: the UI asks for it at once, and a failure belongs here.
    const backend = await core.runtime.backendInfo();
    server = await startServer(core, { port, rendererDir });
    ctx.stderr(`Data directory: ${core.config.dataDir}\n`);
    ctx.stderr(`${backendLine(backend)}\n`);
    if (!existsSync(join(rendererDir, 'index.html'))) {
      ctx.stderr(`WARNING: no UI at ${rendererDir}; run \`npm run build\` (the WebSocket API works without it).\n`);
    }
    ctx.stdout(`Hearth is running at ${server.url}\n`);
    ctx.stderr('Press Ctrl+C to stop.\n');
    const signal = await stopped;
    ctx.stderr(`Stopping (${signal})…\n`);
    return 0;
  } finally {
    unsubscribe();
    await server?.close();
    await core.dispose();
  }
}
