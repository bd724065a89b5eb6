import { HearthError } from '../common/hearthError';

/**
 * What only the program hosting the core can do to itself. The desktop app restarts on another
 * data directory; `hearth serve` closes its core and opens the other one behind the same port
 * and token, so open pages reconnect. CLI commands and tests host no switch.
 */
export interface HostControl {
  readonly canSwitchDataDir: boolean;
  /**
   * Asks the host to continue on `dataDir` (already checked). Returns at once: the switch
   * happens after the caller has had its answer, and closes this core.
   */
  switchDataDir(dataDir: string): void;
}

export class NoHostControl implements HostControl {
  readonly canSwitchDataDir = false;

  switchDataDir(): void {
    throw new HearthError('UNSUPPORTED', 'This Hearth cannot switch to another data folder while it runs; start it on that folder instead.');
  }
}

/** The contract's app.switchDataDir: the folder is checked here, then the host is asked. */
export class DataDirSwitch {
  constructor(
    private readonly host: HostControl,
    private readonly currentDataDir: string,
    private readonly check: (dataDir: string, current: string) => string,
  ) {}

  get available(): boolean {
    return this.host.canSwitchDataDir;
  }

  switchTo(dataDir: string): void {
    if (!this.host.canSwitchDataDir) this.host.switchDataDir(dataDir); // says why it cannot
    this.host.switchDataDir(this.check(dataDir, this.currentDataDir));
  }
}
