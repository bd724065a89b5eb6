/**
 * bench:api's HTTP client in a worker thread: a client app is another process, so its reading
 * and parsing of the stream should not run on the event loop that serves it (on the main thread
 * the client's work per token lands between the server's tokens).
 */
import { parentPort } from 'node:worker_threads';
import { type ChatMessage, streamChat, type StreamTarget } from './apiClient';

interface Job {
  id: number;
  target: StreamTarget;
  messages: ChatMessage[];
  maxTokens: number;
}

parentPort!.on('message', (job: Job) => {
  streamChat(job.target, job.messages, job.maxTokens).then(
    (sample) => parentPort!.postMessage({ id: job.id, sample }),
    (error: unknown) => parentPort!.postMessage({ id: job.id, error: String(error) }),
  );
});
