import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalAccess } from '../localAccess';
import { sendText } from '../requestGate';
import { isApiPath } from './apiRouter';
import { fromOtherDevice, LanHosts } from './lanAccess';

const UI_IS_LOCAL = 'Not found: other devices reach only the API (/v1) and MCP (/mcp); the UI is served on 127.0.0.1 only.';

/** The local API's paths: the OpenAI/Anthropic-compatible /v1 and MCP. */
export function isLocalApiPath(path: string): boolean {
  return path === '/mcp' || isApiPath(path);
}

/**
 * Who reaches what when the server also listens on the LAN: requests from other devices get
 * only the API and MCP (API tokens), so the UI, its WebSocket and document files stay
 * loopback-only. The Host must be 127.0.0.1/localhost, or, in LAN mode only, one of this
 * machine's names with the port.
 */
export class ApiGate {
  private lanHosts: LanHosts | null = null;

  constructor(readonly lan: boolean) {}

  /** Called once the port is known. */
  listening(port: number): void {
    if (this.lan) this.lanHosts = new LanHosts(port);
  }

  hostAllowed(req: IncomingMessage, access: LocalAccess): boolean {
    return access.hostAllowed(req.headers.host) || (this.lanHosts?.allowed(req.headers.host) ?? false);
  }

  /** Answers (404) a request for anything but the API from another device; true when it did. */
  refusedUi(req: IncomingMessage, res: ServerResponse): boolean {
    if (!fromOtherDevice(req)) return false;
    sendText(res, 404, UI_IS_LOCAL);
    return true;
  }

  /** WebSocket handshakes (the UI's) from another device are refused outright. */
  upgradeRefusal(req: IncomingMessage): readonly [number, string] | null {
    return fromOtherDevice(req) ? [403, 'Forbidden: the UI is served on 127.0.0.1 only.'] : null;
  }
}
