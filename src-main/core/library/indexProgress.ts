/**
 * An indexing job's progress, measured in work rather than files: bytes read while documents
 * are parsed, then chunks embedded. The fraction never goes backwards (work found later makes it
 * wait, not jump back), and the time left comes from the rate of the phase under way.
 */

/** Share of the bar for reading when vectors follow (reading is the quick part). */
const READ_SHARE_WITH_VECTORS = 0.2;

export interface ReadWork {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  chunks: number;
}

export interface EmbedWork {
  chunksDone: number;
  chunksTotal: number;
}

export class IndexProgress {
  private fraction = 0;
  private read: ReadWork = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, chunks: 0 };
  private embed: EmbedWork | null = null;
  private readClock: Rate | null = null;
  private embedClock: Rate | null = null;

  constructor(
    private readonly report: (fraction: number, detail: string) => void,
    /** Whether chunks get vectors after reading (an embedding model is set). */
    private readonly vectors: boolean,
    private readonly now: () => number = () => performance.now(),
  ) {}

  reading(work: ReadWork, current: string | null): void {
    this.read = work;
    this.readClock ??= new Rate(this.now);
    const left = this.readClock.secondsLeft(work.bytesDone, work.bytesTotal);
    const parts = [`Reading ${work.filesDone}/${work.filesTotal} files`, `${work.chunks} chunks`];
    if (left !== null && !this.vectors) parts.push(`about ${formatDuration(left)} left`);
    this.emit(parts, current);
  }

  embedding(work: EmbedWork, current: string | null): void {
    this.embed = work;
    this.embedClock ??= new Rate(this.now);
    const left = this.embedClock.secondsLeft(work.chunksDone, work.chunksTotal);
    const parts = [`Embedding ${work.chunksDone}/${work.chunksTotal} chunks`, `${this.read.filesDone} files searchable`];
    if (left !== null) parts.push(`about ${formatDuration(left)} left`);
    this.emit(parts, current);
  }

  /** The job's last word: everything read (and embedded). */
  finished(): void {
    this.fraction = 1;
    const embedded = this.embed ? ` · ${this.embed.chunksTotal} embedded` : '';
    this.report(1, `${this.read.filesDone}/${this.read.filesTotal} files · ${this.read.chunks} chunks${embedded}`);
  }

  /** The fraction reported last, 0..1. */
  get done(): number {
    return this.fraction;
  }

  private emit(parts: string[], current: string | null): void {
    const readFrac = this.read.bytesTotal > 0 ? this.read.bytesDone / this.read.bytesTotal : this.read.filesTotal > 0 ? this.read.filesDone / this.read.filesTotal : 1;
    let next: number;
    if (!this.vectors) next = readFrac;
    else {
      const embedFrac = this.embed && this.embed.chunksTotal > 0 ? this.embed.chunksDone / this.embed.chunksTotal : 0;
      next = READ_SHARE_WITH_VECTORS * readFrac + (1 - READ_SHARE_WITH_VECTORS) * embedFrac;
    }
    this.fraction = Math.max(this.fraction, Math.min(1, next));
    this.report(this.fraction, `${parts.join(' · ')}${current ? ` · ${current}` : ''}`);
  }
}

/** Work per second since the phase started; null until there is enough to tell. */
class Rate {
  private readonly started: number;
  private startDone: number | null = null;

  constructor(private readonly now: () => number) {
    this.started = now();
  }

  secondsLeft(done: number, total: number): number | null {
    this.startDone ??= done;
    const elapsed = (this.now() - this.started) / 1000;
    const progressed = done - this.startDone;
    if (elapsed < 1 || progressed <= 0 || total <= done) return null;
    return ((total - done) * elapsed) / progressed;
  }
}

/** "45 s", "12 min 5 s", "2 h 3 min": rounded to whole seconds first, so never "12 min 60 s". */
export function formatDuration(seconds: number): string {
  const total = Math.max(1, Math.round(seconds));
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${total % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
