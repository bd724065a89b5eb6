import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { CallInput, CallOutput, EventPayload } from './contract/api';
import { isCallName, isEventName, type CallName, type EventName } from './contract/names';
import { callChannel, eventChannel } from './contract/channels';
import type { HearthBridge } from './contract/client';
import type { Result } from './contract/errors';

/**
 * The sandboxed preload: exposes window.hearth, a HearthBridge that sends only on the
 * contract's channels. ipcRenderer itself never reaches the page, and listeners get the
 * payload alone (the IPC event would hand the page a way back to ipcRenderer).
 */

function refused(message: string): Result<never> {
  return { ok: false, error: { code: 'BAD_INPUT', message } };
}

const bridge: HearthBridge = {
  async call<N extends CallName>(name: N, input: CallInput<N>): Promise<Result<CallOutput<N>>> {
    if (!isCallName(name)) return refused(`Unknown call "${String(name).slice(0, 100)}"`);
    try {
      return (await ipcRenderer.invoke(callChannel(name), input)) as Result<CallOutput<N>>;
    } catch (error) {
      // invoke rejects only when the main process has no handler or is going away.
      return { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
    }
  },

  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void {
    if (!isEventName(name) || typeof listener !== 'function') return () => undefined;
    const channel = eventChannel(name);
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload as EventPayload<N>);
    ipcRenderer.on(channel, forward);
    return () => {
      ipcRenderer.removeListener(channel, forward);
    };
  },
};

contextBridge.exposeInMainWorld('hearth', bridge);
