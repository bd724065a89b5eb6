import type { ChatStreamEvent, ContextUsage, Message, SendResult, Thread } from '#contract/dto';
import type { Result } from '#contract/errors';
import type { ProofBundle, VerifyReport } from '#contract/verify';
import type { HearthBridge } from '../api/client';
import type { ToastStore } from './toastStore.svelte';

export interface ChatMessage extends Message {
  /** Decode speed reported when the reply ended (this session only). */
  tokensPerSecond: number | null;
}

interface Stream {
  text: string;
  /** False when we joined mid-reply: text then starts from what SQLite had, not from 'start'. */
  fromStart: boolean;
}

const LOCAL_PREFIX = 'local-';

/**
 * The open chat: its messages, the reply being streamed and the context it used.
 *
 * Replies stream as chat.stream events that may arrive before the call that started them
 * has answered (the core emits 'start' in the same tick), so sending first shows a local
 * placeholder that the first event for an unknown reply adopts.
 */
export class ChatStore {
  thread = $state<Thread | null>(null);
  messages = $state<ChatMessage[]>([]);
  context = $state<ContextUsage | null>(null);
  /** Opening a thread is in flight. */
  opening = $state(false);
  /** A send / regenerate / edit call is in flight. */
  submitting = $state(false);
  /** A message to scroll to and mark (a search hit); the message list clears it once shown. */
  focusMessageId = $state<string | null>(null);

  readonly generating: boolean = $derived(this.submitting || this.messages.some((m) => m.status === 'streaming'));
  /** Dropped messages that are still shown, so the notice never counts vanished ones. */
  readonly droppedIds: ReadonlySet<string> = $derived(
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- rebuilt whole by $derived, never mutated
    new Set((this.context?.droppedMessageIds ?? []).filter((id) => this.messages.some((m) => m.id === id))),
  );

  /** Streamed text per reply, for every thread, so switching back mid-reply loses nothing. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, not UI state: nothing renders from it
  private readonly streams = new Map<string, Stream>();
  private placeholderId: string | null = null;
  private frame = 0;
  private localCounter = 0;
  private openToken = 0;
  private resyncing = false;
  /** Bumped by every local change, so a background refresh never overwrites newer state. */
  private mutations = 0;

  constructor(
    private readonly bridge: HearthBridge,
    private readonly toasts: ToastStore,
    private readonly onThreadTouched: (threadId: string) => void,
  ) {}

  get threadId(): string | null {
    return this.thread?.id ?? null;
  }

  /** Loads a thread; returns the error when it could not be opened. */
  async open(threadId: string): Promise<Result<Thread>> {
    const token = ++this.openToken;
    this.opening = true;
    try {
      const result = await this.bridge.call('threads.get', { threadId });
      if (token !== this.openToken) return result;
      if (result.ok) {
        this.show(result.value);
        void this.measureContext();
      }
      return result;
    } finally {
      if (token === this.openToken) this.opening = false;
    }
  }

  /** Shows a thread we already hold (just created, or just fetched). */
  show(thread: Thread): void {
    this.openToken++;
    this.opening = false;
    this.thread = thread;
    this.placeholderId = null;
    this.context = thread.context;
    this.messages = thread.messages.map((m) => {
      const view: ChatMessage = { ...m, tokensPerSecond: null };
      if (m.status === 'streaming') {
        const stream = this.streams.get(m.id);
        if (stream?.fromStart) view.content = stream.text;
        else this.streams.set(m.id, { text: m.content, fromStart: false });
      }
      return view;
    });
  }

  close(): void {
    this.openToken++;
    this.opening = false;
    this.thread = null;
    this.messages = [];
    this.context = null;
    this.placeholderId = null;
  }

  async reload(): Promise<void> {
    if (this.thread) await this.open(this.thread.id);
  }

  /**
   * Re-reads the open thread after a change made elsewhere (another window, the CLI).
   * Returns null when the answer was dropped because something changed meanwhile.
   */
  async refresh(): Promise<Result<Thread> | null> {
    const thread = this.thread;
    if (!thread || this.generating) return null;
    const mark = this.mutations;
    const result = await this.bridge.call('threads.get', { threadId: thread.id });
    if (this.thread?.id !== thread.id || this.mutations !== mark || this.generating) return null;
    if (result.ok) this.replaceKeepingSpeeds(result.value);
    return result;
  }

  async send(content: string): Promise<boolean> {
    const thread = this.thread;
    if (!thread || this.generating) return false;
    this.mutations++;
    const user = this.localMessage('user', content, 'complete');
    const reply = this.localMessage('assistant', '', 'streaming');
    this.messages.push(user, reply);
    this.placeholderId = reply.id;
    const result = await this.submit(thread.id, () => this.bridge.call('chat.send', { threadId: thread.id, content }));
    if (this.thread?.id !== thread.id) return result.ok;
    if (!result.ok) {
      this.messages = this.messages.filter((m) => m.id !== user.id && m.id !== reply.id);
      return false;
    }
    this.rename(user.id, result.value.userMessageId);
    this.adoptReply(result.value);
    return true;
  }

  async regenerate(): Promise<void> {
    const thread = this.thread;
    if (!thread || this.generating) return;
    this.mutations++;
    const last = this.messages.at(-1);
    if (last?.role === 'assistant') this.messages.pop();
    this.startPlaceholder();
    const result = await this.submit(thread.id, () => this.bridge.call('chat.regenerate', { threadId: thread.id }));
    if (this.thread?.id !== thread.id) return;
    if (result.ok) this.adoptReply(result.value);
    else await this.reload();
  }

  async edit(messageId: string, content: string): Promise<boolean> {
    const thread = this.thread;
    if (!thread || this.generating) return false;
    const index = this.messages.findIndex((m) => m.id === messageId);
    const message = this.messages[index];
    if (!message) return false;
    this.mutations++;
    message.content = content;
    this.messages.splice(index + 1);
    this.startPlaceholder();
    const result = await this.submit(thread.id, () =>
      this.bridge.call('chat.edit', { threadId: thread.id, messageId, content }),
    );
    if (this.thread?.id !== thread.id) return result.ok;
    if (result.ok) this.adoptReply(result.value);
    else await this.reload();
    return result.ok;
  }

  /** Shows another version of a regenerated reply; later turns see the one chosen. */
  async chooseVersion(messageId: string): Promise<void> {
    const thread = this.thread;
    if (!thread || this.generating) return;
    this.mutations++;
    const result = await this.bridge.call('chat.chooseVersion', { threadId: thread.id, messageId });
    if (!result.ok) return this.toasts.error(result.error);
    if (this.thread?.id !== thread.id) return;
    this.replaceKeepingSpeeds(result.value);
    await this.measureContext();
  }

  /**
   * Measures the open chat's history in the loaded model (what the context meter shows); the
   * stored figures of the last reply stay when there is nothing to measure with.
   */
  async measureContext(): Promise<void> {
    const thread = this.thread;
    if (!thread || this.generating) return;
    const result = await this.bridge.call('chat.context', { threadId: thread.id });
    if (result.ok && this.thread?.id === thread.id && !this.generating && result.value) this.context = result.value;
  }

  /** Signs this chat's answer receipts stored unsigned while the vault was locked; says what happened. */
  async signReceipts(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    const result = await this.bridge.call('receipts.sign', { threadId: thread.id });
    if (!result.ok) return this.toasts.error(result.error);
    const { signed, refused } = result.value;
    if (refused.length > 0) this.toasts.error({ code: 'RECEIPT_INVALID', message: `${refused.length} receipt(s) were not signed: ${refused[0]!.reason}` });
    else this.toasts.info(signed === 1 ? 'Signed 1 receipt.' : `Signed ${signed} receipts.`);
    await this.refresh();
  }

  /** Verifies a reply here (signature, chain, transcript, model, replay, sources); null when it could not run. */
  async verifyReply(messageId: string): Promise<VerifyReport | null> {
    const result = await this.bridge.call('receipts.verify', { messageId });
    if (!result.ok) {
      this.toasts.error(result.error);
      return null;
    }
    return result.value;
  }

  /** A reply's proof bundle with its transcript (the user asked to export it); null when it could not be made. */
  async exportProof(messageId: string): Promise<ProofBundle | null> {
    const result = await this.bridge.call('receipts.export', { messageId, transcript: true });
    if (!result.ok) {
      this.toasts.error(result.error);
      return null;
    }
    return result.value;
  }

  async stop(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    const result = await this.bridge.call('chat.stop', { threadId: thread.id });
    if (!result.ok) this.toasts.error(result.error);
  }

  async saveSystemPrompt(systemPrompt: string): Promise<boolean> {
    const thread = this.thread;
    if (!thread) return false;
    const result = await this.bridge.call('threads.update', { threadId: thread.id, systemPrompt });
    if (!result.ok) {
      this.toasts.error(result.error);
      return false;
    }
    if (this.thread?.id === thread.id) {
      this.mutations++;
      this.thread.systemPrompt = result.value.systemPrompt;
    }
    return true;
  }

  /** Scopes the open chat to these collections; none makes it a plain chat again. */
  async setCollections(collectionIds: string[]): Promise<boolean> {
    const thread = this.thread;
    if (!thread) return false;
    const result = await this.bridge.call('threads.setCollections', { threadId: thread.id, collectionIds });
    if (!result.ok) {
      this.toasts.error(result.error);
      return false;
    }
    if (this.thread?.id === thread.id) {
      this.mutations++;
      this.thread.collectionIds = result.value.collectionIds;
    }
    return true;
  }

  setTitle(threadId: string, title: string): void {
    if (this.thread?.id === threadId) this.thread.title = title;
  }

  handleStream(event: ChatStreamEvent): void {
    const current = this.thread?.id === event.threadId;
    if (current) this.mutations++;
    switch (event.type) {
      case 'start':
        this.streams.set(event.messageId, { text: '', fromStart: true });
        if (current) {
          // What was retrieved shows (with its note) while the reply streams.
          this.ensureReply(event.messageId).sources = event.sources;
          this.context = event.context;
        }
        break;
      case 'token': {
        const stream = this.streams.get(event.messageId);
        if (stream) stream.text += event.text;
        else this.streams.set(event.messageId, { text: event.text, fromStart: false });
        if (current) {
          this.ensureReply(event.messageId);
          // The meter follows the reply as it grows.
          if (event.used !== undefined && this.context) this.context = { ...this.context, used: event.used };
          this.scheduleFlush();
        }
        break;
      }
      case 'end': {
        this.streams.delete(event.message.id);
        if (current) {
          const view = this.ensureReply(event.message.id);
          Object.assign(view, event.message, { tokensPerSecond: event.tokensPerSecond || null });
          if (event.context.total > 0) this.context = event.context;
        }
        // The reply is shown, but it could not be saved (a full disk): say so.
        if (event.saveError) this.toasts.error(event.saveError);
        this.onThreadTouched(event.threadId);
        break;
      }
    }
  }

  private async submit(threadId: string, run: () => Promise<Result<SendResult>>): Promise<Result<SendResult>> {
    this.submitting = true;
    try {
      const result = await run();
      if (!result.ok) this.toasts.error(result.error);
      return result;
    } finally {
      this.submitting = false;
      this.onThreadTouched(threadId);
    }
  }

  private startPlaceholder(): void {
    const reply = this.localMessage('assistant', '', 'streaming');
    this.messages.push(reply);
    this.placeholderId = reply.id;
  }

  /** After the call answers: the placeholder, unless an event adopted it already, is the reply. */
  private adoptReply(result: SendResult): void {
    if (this.placeholderId) {
      if (this.messages.some((m) => m.id === result.assistantMessageId)) {
        const stale = this.placeholderId;
        this.messages = this.messages.filter((m) => m.id !== stale);
      } else {
        this.rename(this.placeholderId, result.assistantMessageId);
      }
      this.placeholderId = null;
    }
    this.scheduleFlush();
  }

  /** The reply's view, adopting the local placeholder or appending one if need be. */
  private ensureReply(messageId: string): ChatMessage {
    const existing = this.messages.find((m) => m.id === messageId);
    if (existing) return existing;
    if (this.placeholderId) {
      const placeholder = this.messages.find((m) => m.id === this.placeholderId);
      this.placeholderId = null;
      if (placeholder) {
        placeholder.id = messageId;
        return placeholder;
      }
    }
    // A reply this window did not ask for (another window, the CLI): the question that
    // prompted it is missing here too, so fetch the thread; the stream buffer keeps the text.
    this.messages.push(this.localMessage('assistant', '', 'streaming', messageId));
    if (this.thread) void this.resync(this.thread.id);
    return this.messages.at(-1)!;
  }

  /** Shows a fresh copy of the open thread without forgetting the speeds seen this session. */
  private replaceKeepingSpeeds(thread: Thread): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, discarded at once
    const speeds = new Map(this.messages.map((m) => [m.id, m.tokensPerSecond]));
    this.show(thread);
    for (const message of this.messages) message.tokensPerSecond = speeds.get(message.id) ?? null;
  }

  private async resync(threadId: string): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const result = await this.bridge.call('threads.get', { threadId });
      if (!result.ok || this.thread?.id !== threadId || this.placeholderId || this.submitting) return;
      this.replaceKeepingSpeeds(result.value);
      this.scheduleFlush();
    } finally {
      this.resyncing = false;
    }
  }

  private rename(from: string, to: string): void {
    const message = this.messages.find((m) => m.id === from);
    if (message) message.id = to;
  }

  /** Streamed text reaches the view at most once per frame, however fast tokens come. */
  private scheduleFlush(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const message of this.messages) {
        if (message.status !== 'streaming') continue;
        const stream = this.streams.get(message.id);
        if (stream && stream.text !== message.content) message.content = stream.text;
      }
    });
  }

  private localMessage(
    role: Message['role'],
    content: string,
    status: Message['status'],
    id = `${LOCAL_PREFIX}${++this.localCounter}`,
  ): ChatMessage {
    return {
      id,
      threadId: this.thread?.id ?? '',
      role,
      content,
      status,
      createdAt: Date.now(),
      modelName: null,
      error: null,
      sources: null,
      receipt: 'none',
      versions: null,
      tokensPerSecond: null,
    };
  }
}

export function isLocalId(id: string): boolean {
  return id.startsWith(LOCAL_PREFIX);
}
