import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { IntervalGate } from '../core/common/async';
import type { Logger } from '../core/common/logger';
import type { ServerLimits } from './serverLimits';

export interface ConnectionGuard {
  /** The connection showed the token: it may stay open past the handshake timeout. */
  trust(socket: Socket | Duplex): void;
}

const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * Bounds what connections may hold before they authenticate, so that idle or slow
 * handshakes cannot use up file descriptors: at most maxConnections open at once (the kernel's
 * accept is answered with an immediate close beyond it, logged at most every 10 s), and any
 * connection that has not presented the token within handshakeTimeoutMs is closed.
 */
export function guardConnections(
  server: Server,
  limits: Pick<ServerLimits, 'maxConnections' | 'handshakeTimeoutMs'>,
  logger: Logger,
): ConnectionGuard {
  const timers = new WeakMap<object, ReturnType<typeof setTimeout>>();
  server.maxConnections = limits.maxConnections;
  const dropLog = new IntervalGate(DROP_LOG_INTERVAL_MS);
  server.on('drop', () => {
    if (dropLog.tryPass()) logger.warn(`refusing connections: ${limits.maxConnections} are open (the server's limit)`);
  });
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      logger.debug('closing a connection that did not authenticate in time');
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    timers.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  return {
    trust(socket) {
      const timer = timers.get(socket);
      if (timer) clearTimeout(timer);
      timers.delete(socket);
    },
  };
}
