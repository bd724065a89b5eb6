import WebSocket from 'ws';
import type { CallName, EventName } from '#contract/api';
import type { WireMessage } from '#contract/client';
import type { Result } from '#contract/errors';

/** A real WebSocket client speaking the contract's wire format. */
export class WireClient {
  readonly events: { name: string; payload: unknown }[] = [];
  readonly results = new Map<number, Result<unknown>>();
  /** Answers with id null: to messages whose id the server could not read. */
  readonly unaddressed: Result<unknown>[] = [];
  private readonly waiters = new Set<() => void>();
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as WireMessage;
      if (message.t === 'event') this.events.push({ name: message.name, payload: message.payload });
      else if (message.id === null) this.unaddressed.push(message.result);
      else this.results.set(message.id, message.result);
      for (const wake of this.waiters) wake();
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.once('open', () => resolve(new WireClient(ws)));
      ws.once('error', reject);
    });
  }

  async call<T>(name: CallName | string, input: unknown = {}): Promise<Result<T>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ t: 'call', id, name, input }));
    return (await this.resultOf(id)) as Result<T>;
  }

  async value<T>(name: CallName, input: unknown = {}): Promise<T> {
    const result = await this.call<T>(name, input);
    if (!result.ok) throw new Error(`${name} failed: ${result.error.code} ${result.error.message}`);
    return result.value;
  }

  resultOf(id: number): Promise<Result<unknown>> {
    return this.until(() => this.results.get(id));
  }

  eventsNamed<T>(name: EventName): T[] {
    return this.events.filter((e) => e.name === name).map((e) => e.payload as T);
  }

  /** Waits (up to 30 s) until `check` returns something other than undefined. */
  until<T>(check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const value = check();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error('timed out waiting for the server'));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      const wake = () => void attempt();
      this.waiters.add(wake);
      attempt();
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
