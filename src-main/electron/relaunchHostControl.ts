import { app } from 'electron';
import type { HostControl } from '../core/ports/hostControl';

/**
 * The desktop app switches data folders by restarting itself on the other one (--data-dir),
 * after the renderer has had its answer. The next plain start uses the usual folder again.
 */
export class RelaunchHostControl implements HostControl {
  readonly canSwitchDataDir = true;

  switchDataDir(dataDir: string): void {
    setTimeout(() => {
      const args = process.argv.slice(1).filter((arg) => !arg.startsWith('--data-dir'));
      app.relaunch({ args: [...args, `--data-dir=${dataDir}`] });
      app.exit(0);
    }, 50);
  }
}
