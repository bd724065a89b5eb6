/** A command line that cannot be run as written: exit code 2, with a hint to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help explains the fix, e.g. "models add". */
    readonly command: string | null = null,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}
