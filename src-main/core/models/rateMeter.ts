/** Bytes per second over the last few seconds of samples. */
export class RateMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  sample(bytes: number, now = Date.now()): number | null {
    this.samples.push({ at: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0]!.at > 5_000) this.samples.shift();
    const first = this.samples[0]!;
    const span = now - first.at;
    return span >= 500 ? Math.max(0, ((bytes - first.bytes) * 1000) / span) : null;
  }
}
