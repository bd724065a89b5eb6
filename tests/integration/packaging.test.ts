import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as fileMatcher from 'app-builder-lib/out/fileMatcher';
import { getConfig, validateConfiguration } from 'app-builder-lib/out/util/config/config';
import { DebugLogger } from 'builder-util';
import { assertBuilt } from '../support/server';

const root = resolve(__dirname, '..', '..');

type Filter = (file: string, stat: Stats) => boolean;

/** electron-builder's matcher for the app's files (its default exclusions included); exported, though not in its typings. */
const { getFileMatchers, getMainFileMatchers } = fileMatcher as typeof fileMatcher & {
  getMainFileMatchers(
    appDir: string,
    destination: string,
    macroExpander: (pattern: string) => string,
    platformSpecificBuildOptions: object,
    platformPackager: never,
    outDir: string,
    isElectronCompile: boolean,
  ): fileMatcher.FileMatcher[];
};

/** Every file below a folder of the repository, as absolute paths. */
function filesBelow(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .map((name) => join(root, dir, name))
    .filter((path) => statSync(path).isFile());
}

/** A file that a build step makes elsewhere (native/ needs Electron's headers): only its kind matters to the globs. */
const fileStat = { isDirectory: () => false, isFile: () => true } as Stats;
const dirStat = { isDirectory: () => true, isFile: () => false } as Stats;

/** Whether electron-builder copies a file: the file and every folder above it must pass, as its copier walks them. */
function packed(filter: Filter, path: string): boolean {
  for (let dir = dirname(path); dir.startsWith(root + sep); dir = dirname(dir)) if (!filter(dir, dirStat)) return false;
  return filter(path, existsSync(path) ? statSync(path) : fileStat);
}

/** The width and height a PNG declares (IHDR). */
function pngSize(data: Buffer): [number, number] {
  expect(data.subarray(1, 4).toString('ascii')).toBe('PNG');
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

/**
 * The desktop packages cannot be built here (no Electron binary), so this checks what
 * electron-builder would do with electron-builder.yml, using its own code: the schema
 * validation it runs before a build, and the file matchers it copies the app with.
 */
describe('desktop packaging (electron-builder.yml, resources/)', async () => {
  const config = await getConfig(root, null, null);
  const options = { macroExpander: (pattern: string) => pattern, customBuildOptions: {}, globalOutDir: join(root, 'dist'), defaultSrc: root };

  it("passes electron-builder's own configuration validation, which does reject a wrong option", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, linux: { ...config.linux, targte: 'AppImage' } } as never, new DebugLogger(false))).rejects.toThrow(
      /Invalid configuration object[\s\S]*linux/,
    );
  });

  it('targets AppImage and deb, NSIS and dmg, with their icons', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.directories?.buildResources).toBe('resources');
    for (const icon of [config.linux?.icon, config.win?.icon, config.mac?.icon]) expect(existsSync(join(root, String(icon))), String(icon)).toBe(true);
    // Our own build of better-sqlite3 for Electron is used; electron-builder must not rebuild node_modules.
    expect(config.npmRebuild).toBe(false);
  });

  it('packs every file the app loads, and no sources, tests or server-only copies', () => {
    assertBuilt();
    const packager = { info: { projectDir: root, buildResourcesDir: join(root, 'resources'), isPrepackedAppAsar: false, config, debugLogger: new DebugLogger(false) } };
    const matchers = getMainFileMatchers(root, join(root, 'dist', 'app'), options.macroExpander, {}, packager as never, options.globalOutDir, false);
    const filter = matchers[0]!.createFilter() as Filter;
    const needed = [
      ...filesBelow('out/main'), // index.js (package.json "main"), cli.js, parseWorker.js (the parser's child process), chunks/
      ...filesBelow('out/preload'),
      ...filesBelow('out/renderer').filter((path) => !/\.(br|gz)$/.test(path)),
      join(root, 'native', 'electron', 'better_sqlite3.node'), // npm run build:electron-native (src-main/index.ts loads it)
      join(root, 'models', 'catalog.json'),
      join(root, 'package.json'),
    ];
    expect(needed.map((path) => relative(root, path))).toEqual(
      expect.arrayContaining(['out/main/index.js', 'out/main/parseWorker.js', 'out/preload/index.cjs', 'out/renderer/index.html']),
    );
    for (const path of needed) expect(packed(filter, path), relative(root, path)).toBe(true);
    const unwanted = [
      'src-main/index.ts',
      'src-renderer/index.html',
      'tests/integration/packaging.test.ts',
      'resources/icon.png',
      'electron-builder.yml',
      'scripts/app.mjs',
      ...filesBelow('out/renderer').filter((path) => /\.(br|gz)$/.test(path)).map((path) => relative(root, path)),
    ];
    expect(unwanted.some((path) => path.endsWith('.br'))).toBe(true);
    for (const path of unwanted) expect(packed(filter, join(root, path)), path).toBe(false);
  });

  it('keeps native code out of app.asar', () => {
    const unpack = getFileMatchers(config, 'asarUnpack', join(root, 'dist', 'app'), options)![0]!.createFilter() as Filter;
    for (const path of [
      'native/electron/better_sqlite3.node',
      'node_modules/@lancedb/lancedb-linux-x64-gnu/lancedb.linux-x64-gnu.node',
      'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node',
      'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so',
    ]) {
      expect(unpack(join(root, path), fileStat), path).toBe(true);
    }
    expect(unpack(join(root, 'out/main/index.js'), fileStat)).toBe(false);
  });

  it('has the icon set: an SVG source, PNGs from 16 to 1024, and .ico and .icns with PNG entries', () => {
    expect(readFileSync(join(root, 'resources', 'icon.svg'), 'utf8')).toMatch(/^<svg [^>]*viewBox="0 0 1024 1024"/);
    expect(pngSize(readFileSync(join(root, 'resources', 'icon.png')))).toEqual([1024, 1024]);
    for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
      expect(pngSize(readFileSync(join(root, 'resources', 'icons', `${size}x${size}.png`))), `${size}`).toEqual([size, size]);
    }

    const ico = readFileSync(join(root, 'resources', 'icon.ico'));
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    const icoSizes = Array.from({ length: ico.readUInt16LE(4) }, (_, i) => {
      const entry = 6 + 16 * i;
      const image = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8));
      const [width] = pngSize(image);
      expect(ico.readUInt8(entry) || 256).toBe(width);
      return width;
    });
    expect(icoSizes).toEqual(expect.arrayContaining([16, 32, 48, 256]));

    const icns = readFileSync(join(root, 'resources', 'icon.icns'));
    expect(icns.subarray(0, 4).toString('ascii')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const icnsSizes = new Map<string, number>();
    for (let at = 8; at < icns.length; at += icns.readUInt32BE(at + 4)) {
      icnsSizes.set(icns.subarray(at, at + 4).toString('ascii'), pngSize(icns.subarray(at + 8, at + icns.readUInt32BE(at + 4)))[0]);
    }
    expect(Object.fromEntries(icnsSizes)).toMatchObject({ ic07: 128, ic08: 256, ic09: 512, ic10: 1024 });
  });

  it('builds with `npm run dist`: the app, better-sqlite3 for Electron, then electron-builder', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string> };
    expect(pkg.scripts.dist).toBe('npm run build && npm run build:electron-native && electron-builder');
    expect(pkg.main).toBe('out/main/index.js');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('npm run dist');
  });
});
