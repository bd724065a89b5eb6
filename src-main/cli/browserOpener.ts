import { spawn } from 'node:child_process';

type Env = Readonly<Record<string, string | undefined>>;

export interface OpenCommand {
  command: string;
  args: string[];
}

/**
 * How to open a URL in the user's browser: $BROWSER where set (the first of its
 * colon-separated list, as xdg-open and Python's webbrowser read it), else the platform's
 * opener. The URL is always its own argument, never part of a shell line.
 */
export function browserCommand(url: string, env: Env, platform: NodeJS.Platform = process.platform): OpenCommand {
  const browser = env.BROWSER?.split(':').find((entry) => entry.trim() !== '')?.trim();
  if (browser) return { command: browser, args: [url] };
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // rundll32 opens the default browser without a shell, so "&" in a URL is not a command separator.
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/**
 * Starts the browser and lets it live on its own. Resolves once the opener has started
 * (or failed to): the URL is printed anyway, so a missing opener is only a warning.
 */
export function openBrowser(url: string, env: Env): Promise<{ ok: true } | { ok: false; message: string }> {
  const { command, args } = browserCommand(url, env);
  return new Promise((done) => {
    let child;
    try {
      child = spawn(command, args, { detached: true, stdio: 'ignore', env: { ...env } });
    } catch (error) {
      done({ ok: false, message: `${command}: ${(error as Error).message}` });
      return;
    }
    child.once('error', (error) => done({ ok: false, message: `${command}: ${error.message}` }));
    child.once('spawn', () => {
      child.unref();
      done({ ok: true });
    });
  });
}
