#!/usr/bin/env node
// Renders resources/icon.svg into the icon set electron-builder packs (run after changing the SVG):
//   resources/icons/<N>x<N>.png  Linux (AppImage, deb): 16 to 1024
//   resources/icon.png           1024×1024, the fallback every target accepts
//   resources/icon.ico           Windows (NSIS): 16 to 256, PNG entries
//   resources/icon.icns          macOS (dmg): 16 to 1024, PNG entries
// Chromium draws the SVG (the same /usr/bin/chromium the e2e tests use; HEARTH_CHROMIUM overrides).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resources = join(root, 'resources');
const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
// ICNS types that hold PNG data, by pixel size (the @2x types share sizes with larger 1x ones).
const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];

const svg = readFileSync(join(resources, 'icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const png = new Map();
try {
  const page = await browser.newPage();
  for (const size of SIZES) {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<html><body style="margin:0">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    png.set(size, await page.screenshot({ omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } }));
  }
} finally {
  await browser.close();
}

mkdirSync(join(resources, 'icons'), { recursive: true });
for (const [size, data] of png) writeFileSync(join(resources, 'icons', `${size}x${size}.png`), data);
writeFileSync(join(resources, 'icon.png'), png.get(1024));

// ICO: a 6-byte header, one 16-byte entry per image, then the PNGs (Windows Vista and later read PNG entries).
const icoImages = ICO_SIZES.map((size) => png.get(size));
const header = Buffer.alloc(6 + 16 * icoImages.length);
header.writeUInt16LE(0, 0);
header.writeUInt16LE(1, 2);
header.writeUInt16LE(icoImages.length, 4);
let offset = header.length;
ICO_SIZES.forEach((size, i) => {
  const entry = 6 + 16 * i;
  header.writeUInt8(size >= 256 ? 0 : size, entry); // 0 means 256
  header.writeUInt8(size >= 256 ? 0 : size, entry + 1);
  header.writeUInt16LE(1, entry + 4); // colour planes
  header.writeUInt16LE(32, entry + 6); // bits per pixel
  header.writeUInt32LE(icoImages[i].length, entry + 8);
  header.writeUInt32LE(offset, entry + 12);
  offset += icoImages[i].length;
});
writeFileSync(join(resources, 'icon.ico'), Buffer.concat([header, ...icoImages]));

// ICNS: "icns" + total length, then per image its type, its length (with this 8-byte head) and the PNG.
const chunks = ICNS_TYPES.map(([type, size]) => {
  const data = png.get(size);
  const head = Buffer.alloc(8);
  head.write(type, 0, 'ascii');
  head.writeUInt32BE(data.length + 8, 4);
  return Buffer.concat([head, data]);
});
const body = Buffer.concat(chunks);
const icnsHead = Buffer.alloc(8);
icnsHead.write('icns', 0, 'ascii');
icnsHead.writeUInt32BE(body.length + 8, 4);
writeFileSync(join(resources, 'icon.icns'), Buffer.concat([icnsHead, body]));
console.error(`Wrote ${SIZES.length} PNGs, icon.png, icon.ico and icon.icns in resources/`);
