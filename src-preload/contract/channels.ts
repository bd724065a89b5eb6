/** Channel names for Electron IPC: one channel per contract call or event. */
export const CALL_CHANNEL_PREFIX = 'hearth:call:';
export const EVENT_CHANNEL_PREFIX = 'hearth:event:';
export const callChannel = (name: string): string => CALL_CHANNEL_PREFIX + name;
export const eventChannel = (name: string): string => EVENT_CHANNEL_PREFIX + name;
