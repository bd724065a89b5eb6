import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDataDir } from '../../src-main/core/ports/dataDir';

describe('data directory resolution (shared by desktop, server and CLI)', () => {
  it('prefers --data-dir, then HEARTH_DATA_DIR, then the OS app-data folder', () => {
    expect(resolveDataDir('rel/dir', { HEARTH_DATA_DIR: '/env' })).toBe(resolve('rel/dir'));
    expect(resolveDataDir(undefined, { HEARTH_DATA_DIR: '/env/hearth' })).toBe('/env/hearth');
    expect(resolveDataDir(undefined, {}, 'linux')).toBe(join(homedir(), '.local', 'share', 'hearth'));
    expect(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' }, 'linux')).toBe('/xdg/hearth');
    expect(resolveDataDir(undefined, {}, 'darwin')).toBe(join(homedir(), 'Library', 'Application Support', 'Hearth'));
    expect(resolveDataDir(undefined, { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toBe(
      join('C:\\Users\\a\\AppData\\Roaming', 'Hearth'),
    );
  });
});
