import type { Core } from '../../core/createCore';
import { startServer, type HearthServer } from '../server';

/**
 * The desktop app's local API: a server on DESKTOP_API_PORT while the localApi setting is on,
 * none while it is off (the default). It is the same server as `hearth serve`, but its
 * session token is never handed out, so only /v1 and /mcp, with API tokens, are usable.
 * apply() follows the settings; calls are serialized, so toggling quickly ends in the last state.
 */
export class LocalApiHost {
  private server: HearthServer | null = null;
  private lan = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly core: Core,
    private readonly port: number,
  ) {}

  /** The running server's port, or null while the API is off. */
  get runningPort(): number | null {
    return this.server?.port ?? null;
  }

  apply(): Promise<void> {
    this.chain = this.chain.then(() => this.reconcile()).catch((error: unknown) => this.core.logger.error('the local API could not start', error));
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.stop();
  }

  private async reconcile(): Promise<void> {
    const { localApi, localApiLan } = this.core.settings.get();
    const lan = localApiLan && this.core.apiTokens.activeCount() > 0;
    if (localApiLan && !lan) this.core.logger.warn('the local API is not served to other devices: that needs at least one API token');
    if (this.server && (!localApi || lan !== this.lan)) await this.stop();
    if (localApi && !this.server) {
      // No renderer: the UI is the app's window, never this server's.
      this.server = await startServer(this.core, { port: this.port, rendererDir: '/nonexistent/hearth-renderer', lan });
      this.lan = lan;
      this.core.logger.info(`local API at http://127.0.0.1:${this.server.port}/v1${lan ? ' (also to other devices)' : ''}`);
    }
  }

  private async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.close();
  }
}
