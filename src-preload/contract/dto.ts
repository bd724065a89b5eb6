/** Data transfer objects: plain JSON, the same over IPC, WebSocket and the CLI's --json. */

export type GpuBackend = 'cuda' | 'vulkan' | 'metal' | 'cpu';

export interface BackendInfo {
  backend: GpuBackend;
  /** Human sentence: which backend and why, e.g. "CPU: no GPU found". */
  reason: string;
  /** True when the app runs on CPU although a GPU could be expected to help. */
  warning: boolean;
  gpuDevices: string[];
}

export interface ModelInfo {
  id: string;
  path: string;
  name: string;
  sizeBytes: number;
  architecture: string | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  addedAt: number;
  /** False when the file has gone missing since it was added. */
  present: boolean;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  path: string;
  contextSize: number;
  gpuLayers: number;
  totalLayers: number;
  /** Which chat template formats prompts: the model's own or the general fallback. */
  chatTemplate: string;
  backend: BackendInfo;
}

export type RuntimeState =
  | { state: 'idle'; backend: BackendInfo | null }
  | { state: 'loading'; modelId: string; name: string; progress: number; backend: BackendInfo | null }
  | { state: 'ready'; model: LoadedModel; generating: boolean }
  | { state: 'error'; modelId: string; error: { code: string; message: string }; backend: BackendInfo | null };

export interface ThreadSummary {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
}

export type MessageRole = 'user' | 'assistant';
/** complete: finished normally; stopped: the user stopped it; length: it hit the token limit. */
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'length' | 'error';

export interface Message {
  id: string;
  threadId: string;
  role: MessageRole;
  content: string;
  status: MessageStatus;
  createdAt: number;
  /** The model that wrote an assistant message. */
  modelName: string | null;
  error: { code: string; message: string } | null;
}

export interface ContextUsage {
  /** Tokens the prompt plus reply occupied. */
  used: number;
  total: number;
  /** Messages left out of the model's context because the history did not fit. */
  droppedMessageIds: string[];
}

export interface Thread extends ThreadSummary {
  systemPrompt: string;
  messages: Message[];
  context: ContextUsage | null;
}

export interface SendResult {
  userMessageId: string;
  assistantMessageId: string;
}

export type ChatStreamEvent =
  | { type: 'start'; threadId: string; messageId: string; context: ContextUsage }
  /** text is the next piece of the reply: one token's text, or several (a transport may merge them). */
  | { type: 'token'; threadId: string; messageId: string; text: string }
  | { type: 'end'; threadId: string; message: Message; context: ContextUsage; tokensPerSecond: number };

export type JobStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export interface JobInfo {
  id: string;
  kind: string;
  title: string;
  status: JobStatus;
  /** 0..1, or null when the amount of work is unknown. */
  progress: number | null;
  detail: string | null;
  error: { code: string; message: string } | null;
  createdAt: number;
  updatedAt: number;
}

export interface AppInfo {
  version: string;
  dataDir: string;
  /** 'desktop' when an Electron shell hosts the UI, 'server' for the headless server. */
  host: 'desktop' | 'server';
  canPickFiles: boolean;
  limits: { maxMessageChars: number };
}

export interface Settings {
  contextSize: number | null;
  maxReplyTokens: number;
  temperature: number;
}
