import type { Token } from 'node-llama-cpp';
import { MAX_MESSAGE_CHARS } from '#contract/api';
import type {
  ChatStreamEvent,
  ContextUsage,
  AnswerReceipt,
  Message,
  MessageSources,
  SendResult,
  Thread,
  ThreadSummary,
} from '#contract/dto';
import { IntervalGate } from '../common/async';
import { HearthError, toErrorData } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { SettingsRepository } from '../storage/settingsRepository';
import type { ThreadRepository } from '../storage/threadRepository';
import type { LlamaRuntime, LoadedSession } from './llamaRuntime';
import { CHAT_LANE, GenerationQueue } from './generationQueue';
import type { ModelRunner } from './modelRunner';
import type { ReplyReceipts } from './replyReceipts';
import { fitHistory, promptTokens, samplingFor, type FittedHistory } from './promptBuilder';
import type { ThreadGenerationService } from './threadGeneration';
import { chatSamplingOptions, samplingFromReceipt } from './generationSampling';
import type { SequenceLease } from './sequencePool';
import { ReplySaver } from './replySaver';
import { buildSourceContext, sourceBudget, type SourceRetriever } from './sourceContext';

const DEFAULT_TITLE = 'New chat';
/** How often partial replies are written to SQLite, so a crash keeps what was streamed. */
const PERSIST_INTERVAL_MS = 1000;

interface ActiveGeneration {
  messageId: string;
  controller: AbortController;
  done: Promise<void>;
}

/** Per-reply overrides of the saved settings (the CLI's --max-tokens must not rewrite them). */
export interface ReplyOptions {
  maxReplyTokens?: number;
  temperature?: number;
  /** The sampler's seed; a random one is chosen (and recorded in the receipt) when none is given. */
  seed?: number;
}

/**
 * Threads, messages and generation. Threads live in SQLite; a reply streams as
 * chat.stream events and is persisted as it goes. Replies take their turn on the model in the
 * GenerationQueue it shares with API requests: the chats' replies in the order they were asked
 * for, taking turns with API clients.
 */
export class ChatService {
  private readonly active = new Map<string, ActiveGeneration>();
  /** Threads whose send is waiting for a model to load: a second send meanwhile is BUSY. */
  private readonly preparing = new Set<string>();
  /** Writes replies; keeps one whose save fails (a full disk) and saves it later. */
  private readonly saver: ReplySaver;

  constructor(
    private readonly threads: ThreadRepository,
    private readonly settings: SettingsRepository,
    private readonly runtime: LlamaRuntime,
    private readonly emit: (event: ChatStreamEvent) => void,
    private readonly logger: Logger,
    /** Told when a thread is created, renamed, deleted or gets messages, so every front end's list stays current. */
    private readonly onThreadChanged: (threadId: string) => void = () => undefined,
    /** Loads the default chat model when a message arrives and none is loaded, and stops replies before the model changes. */
    private readonly runner: ModelRunner | null = null,
    /** Finds passages in the thread's collections; absent, chats never use documents. */
    private readonly retriever: SourceRetriever | null = null,
    /** Makes each reply's answer receipt; absent, replies get none. */
    private readonly receipts: ReplyReceipts | null = null,
    /** A chat's own sampling values over the saved defaults; absent, every chat uses the defaults. */
    private readonly generation: ThreadGenerationService | null = null,
    /** The model's turn order, shared with API requests (see GenerationQueue). */
    private readonly queue: GenerationQueue = new GenerationQueue(),
  ) {
    runner?.addUser(this);
    this.saver = new ReplySaver(threads, logger, onThreadChanged);
    const closed = threads.closeInterruptedMessages();
    if (closed > 0) logger.info(`closed ${closed} reply(ies) interrupted by the last shutdown`);
  }

  listThreads(): ThreadSummary[] {
    return this.threads.list();
  }

  /**
   * A new chat; with reuseEmpty (the UI's New chat), an empty chat with the default title, no
   * system prompt and no collections is opened again instead, so clicks do not pile up empty chats.
   */
  createThread(title?: string, systemPrompt?: string, options: { reuseEmpty?: boolean } = {}): Thread {
    if (options.reuseEmpty && !title?.trim() && !systemPrompt) {
      const empty = this.threads.emptyThread(DEFAULT_TITLE);
      if (empty && !this.active.has(empty.id) && !this.preparing.has(empty.id)) {
        this.threads.touch(empty.id);
        this.onThreadChanged(empty.id);
        return this.getThread(empty.id);
      }
    }
    const row = this.threads.create(title?.trim() || DEFAULT_TITLE, systemPrompt ?? '');
    this.onThreadChanged(row.id);
    return this.getThread(row.id);
  }

  getThread(threadId: string): Thread {
    const row = this.threads.get(threadId);
    if (!row) throw new HearthError('THREAD_NOT_FOUND', `No chat with id ${threadId}; it may have been deleted.`);
    const messages = this.messagesOf(threadId);
    return { ...row, messages, messageCount: messages.length, collectionIds: this.threads.collectionIds(threadId) };
  }

  updateThread(threadId: string, patch: { title?: string; systemPrompt?: string }): Thread {
    this.getThread(threadId);
    this.threads.update(threadId, patch);
    this.onThreadChanged(threadId);
    return this.getThread(threadId);
  }

  /** Scopes the chat to collections: its next replies answer from them, with citations. */
  setCollections(threadId: string, collectionIds: string[]): Thread {
    this.retriever?.requireCollections(collectionIds);
    this.getThread(threadId);
    this.threads.setCollectionIds(threadId, [...new Set(collectionIds)]);
    this.onThreadChanged(threadId);
    return this.getThread(threadId);
  }

  async deleteThread(threadId: string): Promise<void> {
    this.getThread(threadId);
    await this.stop(threadId);
    this.threads.delete(threadId);
    this.onThreadChanged(threadId);
  }

  /** Appends the user's message and starts the reply; tokens arrive as chat.stream events. */
  async send(threadId: string, content: string, options: ReplyOptions = {}): Promise<SendResult> {
    const session = await this.prepare(threadId);
    this.checkMessageSize(session, threadId, content);
    const { user, assistant } = this.threads.transaction(() => {
      const thread = this.threads.get(threadId)!;
      if (thread.title === DEFAULT_TITLE && this.threads.messages(threadId).length === 0) {
        this.threads.update(threadId, { title: titleFrom(content) });
      }
      const user = this.threads.appendMessage(threadId, { role: 'user', content, status: 'complete' });
      const assistant = this.newReply(threadId, session);
      return { user, assistant };
    });
    this.startGeneration(threadId, assistant.id, options);
    return { userMessageId: user.id, assistantMessageId: assistant.id };
  }

  /**
   * Answers the last question again. The previous reply is kept as another version of it (one
   * with no text, a failed start, is dropped); the new one is shown and is what later turns see.
   */
  async regenerate(threadId: string): Promise<SendResult> {
    const session = await this.prepare(threadId);
    const messages = this.threads.messages(threadId);
    const last = messages.at(-1);
    if (!last) throw new HearthError('BAD_INPUT', 'This chat has no message to answer yet.');
    const result = this.threads.transaction(() => {
      let group: string | undefined;
      if (last.role === 'assistant') {
        if (last.content.length > 0) group = this.threads.hideAsVersion(last.id);
        else this.threads.deleteMessage(last.id);
      }
      const user = this.threads.messages(threadId).at(-1);
      if (!user || user.role !== 'user') throw new HearthError('BAD_INPUT', 'There is no question to answer again.');
      return { userMessageId: user.id, assistantMessageId: this.newReply(threadId, session, group).id };
    });
    this.startGeneration(threadId, result.assistantMessageId);
    return result;
  }

  /** Changes an earlier question, drops everything after it, and answers again. */
  async edit(threadId: string, messageId: string, content: string): Promise<SendResult> {
    const session = await this.prepare(threadId);
    const message = this.threads.message(messageId);
    if (!message || message.threadId !== threadId) {
      throw new HearthError('MESSAGE_NOT_FOUND', `No message ${messageId} in this chat.`);
    }
    if (message.role !== 'user') throw new HearthError('BAD_INPUT', 'Only your own messages can be edited.');
    this.checkMessageSize(session, threadId, content);
    const assistant = this.threads.transaction(() => {
      this.threads.setMessageContent(messageId, content);
      this.threads.truncateAfter(threadId, messageId, false);
      return this.newReply(threadId, session);
    });
    this.startGeneration(threadId, assistant.id);
    return { userMessageId: messageId, assistantMessageId: assistant.id };
  }

  /** Shows another version of a regenerated reply: later turns see the one chosen. */
  chooseVersion(threadId: string, messageId: string): Thread {
    this.getThread(threadId);
    if (this.active.has(threadId) || this.preparing.has(threadId)) {
      throw new HearthError('BUSY', 'This chat is still writing a reply; stop it or wait for it to finish.');
    }
    if (!this.threads.chooseVersion(threadId, messageId)) {
      throw new HearthError('MESSAGE_NOT_FOUND', `No version ${messageId} of a reply in this chat.`);
    }
    this.onThreadChanged(threadId);
    return this.getThread(threadId);
  }

  /**
   * The context the chat's history takes in the loaded model now: what its next prompt holds
   * before the question, and which old turns no longer fit. With no model loaded (or while a
   * reply streams: its events carry the figures), the last reply's figures.
   */
  contextUsage(threadId: string): ContextUsage | null {
    const row = this.threads.get(threadId);
    if (!row) throw new HearthError('THREAD_NOT_FOUND', `No chat with id ${threadId}; it may have been deleted.`);
    const session = this.runtime.loaded;
    if (!session || this.active.has(threadId)) return row.context;
    try {
      const fitted = fitHistory(session, row.systemPrompt, this.messagesOf(threadId), (this.generation?.effective(threadId) ?? this.settings.get()).maxReplyTokens);
      return { used: fitted.inputTokens.length, total: session.context.contextSize, droppedMessageIds: fitted.droppedMessageIds };
    } catch (error) {
      if (!(error instanceof HearthError)) throw error;
      return row.context;
    }
  }

  /** Stops the thread's reply, keeping what was written so far. Resolves once it has stopped. */
  async stop(threadId: string): Promise<void> {
    const active = this.active.get(threadId);
    if (!active) return;
    active.controller.abort();
    await active.done;
  }

  /** Resolves when the thread has no reply in progress. */
  async idle(threadId: string): Promise<void> {
    await this.active.get(threadId)?.done;
  }

  isGenerating(threadId: string): boolean {
    return this.active.has(threadId);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.active.keys()].map((threadId) => this.stop(threadId)));
  }

  /** At quit: stops every reply and saves what waits to be saved, if it can. */
  async dispose(): Promise<void> {
    await this.stopAll();
    this.saver.dispose();
  }

  /** The thread's messages, with replies not saved yet (a full disk) as they are in memory. */
  private messagesOf(threadId: string): Message[] {
    return this.saver.overlay(this.threads.messages(threadId));
  }

  /**
   * Checks the thread can take a message and returns the model to answer with, loading the
   * default chat model first if none is loaded (load on first use).
   */
  private async prepare(threadId: string): Promise<LoadedSession> {
    this.getThread(threadId);
    if (this.active.has(threadId) || this.preparing.has(threadId)) {
      throw new HearthError('BUSY', 'This chat is still writing a reply; stop it or wait for it to finish.');
    }
    this.preparing.add(threadId);
    try {
      const session = this.runtime.loaded ?? (await this.runner?.loadedOrDefault()) ?? null;
      if (!session) {
        throw new HearthError('MODEL_NOT_LOADED', 'No model is loaded. Choose a model first, or set a default chat model.');
      }
      this.getThread(threadId); // it may have been deleted while the model loaded
      this.receipts?.warm(session);
      return session;
    } finally {
      this.preparing.delete(threadId);
    }
  }

  private checkMessageSize(session: LoadedSession, threadId: string, content: string): void {
    if (content.length > MAX_MESSAGE_CHARS) {
      throw new HearthError(
        'MESSAGE_TOO_LARGE',
        `The message has ${content.length.toLocaleString('en')} characters; the limit is ${MAX_MESSAGE_CHARS.toLocaleString('en')}.`,
      );
    }
    const systemPrompt = this.threads.get(threadId)?.systemPrompt ?? '';
    const needed = promptTokens(session, [
      ...(systemPrompt ? [{ type: 'system', text: systemPrompt } as const] : []),
      { type: 'user', text: content },
    ]).length;
    const total = session.context.contextSize;
    if (needed >= total) {
      throw new HearthError(
        'MESSAGE_TOO_LARGE',
        `The message needs ${needed} tokens but the model's context holds ${total}. Shorten it or load the model with a larger context.`,
      );
    }
  }

  private newReply(threadId: string, session: LoadedSession, altGroup?: string): Message {
    return this.threads.appendMessage(threadId, {
      role: 'assistant',
      content: '',
      status: 'streaming',
      modelName: session.info.name,
      ...(altGroup ? { altGroup } : {}),
    });
  }

  private startGeneration(threadId: string, messageId: string, options: ReplyOptions = {}): void {
    this.onThreadChanged(threadId);
    const controller = new AbortController();
    const done = this.queue.run(CHAT_LANE, () => this.generate(threadId, messageId, controller.signal, options));
    const active: ActiveGeneration = { messageId, controller, done: done.catch(() => undefined) };
    this.active.set(threadId, active);
    void active.done.then(() => {
      if (this.active.get(threadId) === active) this.active.delete(threadId);
    });
  }

  private async generate(threadId: string, messageId: string, signal: AbortSignal, options: ReplyOptions): Promise<void> {
    let text = '';
    let context: ContextUsage = { used: 0, total: 0, droppedMessageIds: [] };
    let generatedTokens = 0;
    let startedAt = 0;
    const finish = (status: Message['status'], error: unknown = null, receipt: AnswerReceipt | null = null) => {
      const { message, saveError } = this.saver.finish(messageId, {
        threadId,
        content: text,
        status,
        error: error === null ? null : toErrorData(error),
        context: context.total > 0 ? context : null,
        receipt,
      });
      const seconds = startedAt ? (performance.now() - startedAt) / 1000 : 0;
      this.emit({
        type: 'end',
        threadId,
        message,
        context,
        tokensPerSecond: seconds > 0 ? generatedTokens / seconds : 0,
        ...(saveError ? { saveError } : {}),
      });
    };

    if (signal.aborted) return finish('stopped');
    const session = this.runtime.loaded;
    if (!session) return finish('error', new HearthError('MODEL_NOT_LOADED', 'The model was unloaded before it could answer.'));

    const params = this.generation?.effective(threadId) ?? this.settings.get();
    const maxReplyTokens = options.maxReplyTokens ?? params.maxReplyTokens;
    const total = session.context.contextSize;
    let sources: MessageSources | null = null;
    let sourcePrompt: string | null = null;
    const collectionIds = this.threads.collectionIds(threadId);
    if (collectionIds.length > 0 && this.retriever) {
      const question = this.questionFor(threadId, messageId);
      const built = await buildSourceContext({
        retriever: this.retriever,
        question,
        collectionIds,
        budget: sourceBudget(total, maxReplyTokens),
        countTokens: (text) => session.model.tokenize(text).length,
        signal,
      });
      if (signal.aborted) return finish('stopped');
      sources = built.sources;
      sourcePrompt = built.prompt;
      this.saver.sources(messageId, sources);
    }
    let fitted: FittedHistory;
    try {
      fitted = this.fitHistory(session, threadId, messageId, maxReplyTokens, sourcePrompt);
    } catch (error) {
      return finish('error', error);
    }
    const promptTokens = fitted.inputTokens.length;
    context = { used: promptTokens, total, droppedMessageIds: fitted.droppedMessageIds };
    const maxTokens = Math.max(1, Math.min(maxReplyTokens, total - promptTokens - 1));
    const sampling = samplingFor({ ...params, temperature: options.temperature ?? params.temperature }, maxTokens, options.seed);
    const outputTokens: Token[] = [];
    this.emit({ type: 'start', threadId, messageId, context, sources });

    const persist = new IntervalGate(PERSIST_INTERVAL_MS, () => performance.now());
    persist.pass();
    this.runtime.markGenerating(true);
    let lease: SequenceLease | null = null;
    try {
      lease = await session.pool.acquire({ key: threadId, tokens: fitted.inputTokens, signal });
      startedAt = performance.now();
      const result = await lease.chat.generateResponse([...fitted.history, { type: 'model', response: [] }], {
        signal,
        stopOnAbortSignal: true,
        // Exactly what the receipt records, read back the way a replay reads it.
        ...chatSamplingOptions(samplingFromReceipt(sampling)),
        onToken: (tokens) => {
          generatedTokens += tokens.length;
          outputTokens.push(...tokens);
        },
        onTextChunk: (chunk) => {
          text += chunk;
          this.emit({ type: 'token', threadId, messageId, text: chunk, used: promptTokens + generatedTokens });
          if (persist.tryPass()) this.saver.progress(messageId, text);
        },
      });
      text = result.response;
      context = { ...context, used: promptTokens + generatedTokens };
      const reason = result.metadata.stopReason;
      const receipt = await this.receiptFor({
        threadId,
        messageId,
        session,
        sampling,
        inputTokens: fitted.inputTokens,
        outputTokens,
        evaluatedTokens: lease.sequence.contextTokens,
        text,
        stopReason: reason,
        sources,
        previous: this.saver.latestReceipt(threadId),
      });
      finish(reason === 'abort' || signal.aborted ? 'stopped' : reason === 'maxTokens' ? 'length' : 'complete', null, receipt);
    } catch (error) {
      if (signal.aborted) finish('stopped');
      else {
        this.logger.warn(`reply in ${threadId} failed`, error);
        finish('error', error);
      }
    } finally {
      lease?.release();
      this.runtime.markGenerating(false);
    }
  }

  /** The reply's receipt; a failure to make one is logged and the reply is kept without it. */
  private async receiptFor(reply: Parameters<ReplyReceipts['create']>[0]): Promise<AnswerReceipt | null> {
    if (!this.receipts) return null;
    try {
      return await this.receipts.create(reply);
    } catch (error) {
      this.logger.warn(`the reply ${reply.messageId} gets no receipt`, error);
      return null;
    }
  }

  /** The thread's history up to this reply, fitted to the context (see fitHistory). */
  private fitHistory(session: LoadedSession, threadId: string, replyId: string, maxReplyTokens: number, sourcePrompt: string | null = null): FittedHistory {
    const all = this.messagesOf(threadId);
    const replyIndex = all.findIndex((m) => m.id === replyId);
    const earlier = all.slice(0, replyIndex === -1 ? all.length : replyIndex);
    return fitHistory(session, this.threads.get(threadId)!.systemPrompt, earlier, maxReplyTokens, sourcePrompt);
  }

  /** The question a reply answers: the last user message before it. */
  private questionFor(threadId: string, replyId: string): string {
    const all = this.threads.messages(threadId);
    const index = all.findIndex((m) => m.id === replyId);
    const before = all.slice(0, index === -1 ? all.length : index);
    return before.findLast((m) => m.role === 'user')?.content ?? '';
  }

}

function titleFrom(content: string): string {
  const line = content.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || DEFAULT_TITLE;
}
