import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** Whether a request came in over a connection from another device (not loopback). */
export function fromOtherDevice(req: IncomingMessage): boolean {
  return !isLoopbackAddress(req.socket.localAddress);
}

/**
 * The Host names a LAN client may use in LAN mode: this machine's addresses and its host name
 * (with `.local`), each with the port. Outside LAN mode none of them is accepted, so the
 * loopback-only Host check stays exactly as it was.
 */
export class LanHosts {
  private readonly names: ReadonlySet<string>;

  constructor(port: number, extra: readonly string[] = []) {
    const names = new Set<string>();
    for (const addresses of Object.values(networkInterfaces())) {
      for (const info of addresses ?? []) names.add(info.family === 'IPv6' ? `[${info.address.toLowerCase()}]` : info.address);
    }
    const host = hostname().toLowerCase();
    for (const name of [host, `${host}.local`, ...extra.map((e) => e.toLowerCase())]) names.add(name);
    this.names = new Set([...names].map((name) => `${name}:${port}`));
  }

  allowed(host: string | undefined): boolean {
    return host !== undefined && this.names.has(host.toLowerCase());
  }

  /** The addresses to print ("reachable at"), IPv4 first. */
  static addresses(): string[] {
    return Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((info) => !info.internal && info.family === 'IPv4')
      .map((info) => info.address);
  }
}
