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
