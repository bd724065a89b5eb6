import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import { testModelPath } from '../support/testModels';

/**
 * The app at 800×600 in real Chromium against `hearth serve`: the sidebar starts collapsed and
 * toggles (remembered across reloads), the chat header stays one row with a model loaded,
 * nothing overflows sideways, and a dismissed CPU warning stays dismissed across screens and
 * reloads.
 */
describe('layout at 800×600: collapsible sidebar, one-row header, remembered dismissals (e2e)', () => {
  let page: Page;
  const errors: string[] = [];

  const headerHeight = async () => (await page.locator('header.header').boundingBox())?.height ?? Number.NaN;
  const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  /**
   * The header's parts in one row, and the runtime state really on screen: the status's label is
   * what the page shows at its own centre (not clipped away, not covered), with a name to read.
   */
  const headerCheck = () =>
    page.evaluate(() => {
      const header = document.querySelector('header.header')!.getBoundingClientRect();
      const parts = ['model-select', 'runtime-status', 'backend-badge', 'context-meter'].map((id) => document.querySelector(`[data-testid="${id}"]`)!.getBoundingClientRect());
      const centres = parts.map((r) => r.top + r.height / 2);
      const status = document.querySelector('[data-testid="runtime-status"]')!;
      const label = status.querySelector('.label')!.getBoundingClientRect();
      const atLabel = document.elementFromPoint(label.left + label.width / 2, label.top + label.height / 2);
      return {
        height: header.height,
        rowSpread: Math.max(...centres) - Math.min(...centres),
        inside: parts.every((r) => r.left >= header.left - 0.5 && r.right <= header.right + 0.5),
        labelShown: label.width > 20 && label.right <= header.right && status.contains(atLabel),
        name: (status.textContent ?? '').trim(),
        tooltip: status.getAttribute('title') ?? '',
      };
    });
  const welcomeInView = () =>
    page.evaluate(() => {
      const card = document.querySelector('[data-testid="welcome"]')!.getBoundingClientRect();
      const composer = document.querySelector('[data-testid="composer"]')!.getBoundingClientRect();
      return card.top >= 0 && card.left >= 0 && card.right <= window.innerWidth && card.bottom <= composer.top && card.height > 100;
    });

  beforeAll(async () => {
    const model = await testModelPath('stories260K');
    // GPU detection as a user gets it (no `--gpu off`): on a machine without a GPU the CPU warning shows.
    const app = await startE2eApp({
      prefix: 'hearth-e2e-layout-',
      viewport: { width: 800, height: 600 },
      errors,
      seed: async (core) => expect((await core.models.add(model)).defaultFor).toEqual(['chat']),
      testModels: true,
      open: true,
      waitFor: 'composer',
    });
    ({ page } = app);
    return app.close;
  });

  it('starts with the sidebar collapsed below 900 px, toggles it, and remembers the choice across reloads', async () => {
    expect(await page.getByTestId('sidebar-show').getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(false);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(outDir, 'layout-welcome-collapsed-800x600.png') });

    await page.getByTestId('sidebar-show').click();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(true);
    expect(await page.getByTestId('sidebar-hide').getAttribute('aria-expanded')).toBe('true');
    expect(await page.getByTestId('sidebar-show').count()).toBe(0);
    await page.reload();
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(true);
    expect(await sideways()).toBeLessThanOrEqual(0);

    await page.getByTestId('sidebar-hide').click();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(false);
    await page.reload();
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('sidebar-show').getAttribute('aria-expanded')).toBe('false');
  });

  it('shows the whole welcome card and the runtime state in a one-row header, with the sidebar open or closed', async () => {
    await page.getByTestId('welcome').waitFor();
    for (const sidebar of ['closed', 'open']) {
      if (sidebar === 'open') await page.getByTestId('sidebar-show').click();
      await expect.poll(headerCheck, { timeout: 20_000 }).toMatchObject({ rowSpread: expect.any(Number), labelShown: true, name: 'No model loaded' });
      const header = await headerCheck();
      expect(header.height, sidebar).toBeLessThanOrEqual(64);
      expect(header.rowSpread, sidebar).toBeLessThanOrEqual(4);
      expect(header.inside, sidebar).toBe(true);
      expect(await welcomeInView(), sidebar).toBe(true);
      expect(await sideways()).toBeLessThanOrEqual(0);
      // Load and Unload may be icons here; they keep their names.
      expect(await page.getByRole('button', { name: 'Load', exact: true }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Unload', exact: true }).count()).toBe(1);
    }
    await page.screenshot({ path: join(outDir, 'layout-welcome-open-800x600.png') });
    await page.getByTestId('sidebar-hide').click();
  });

  it('keeps the chat header to one row with a model loaded, with the sidebar open or closed', async () => {
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/^(complete|length)$/);
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 20_000 }).toMatch(/Ready/);

    expect(await headerHeight()).toBeLessThanOrEqual(64);
    expect(await sideways()).toBeLessThanOrEqual(0);
    expect(await headerCheck()).toMatchObject({ labelShown: true, inside: true, name: expect.stringMatching(/^Ready · \S/), tooltip: expect.stringContaining('token context') });
    expect((await headerCheck()).rowSpread).toBeLessThanOrEqual(4);
    await page.screenshot({ path: join(outDir, 'layout-chat-collapsed-800x600.png') });
    await page.getByTestId('sidebar-show').click();
    expect(await headerHeight()).toBeLessThanOrEqual(64);
    expect(await sideways()).toBeLessThanOrEqual(0);
    expect(await headerCheck()).toMatchObject({ labelShown: true, inside: true, name: expect.stringMatching(/^Ready · \S/) });
    expect((await headerCheck()).rowSpread).toBeLessThanOrEqual(4);
    await page.screenshot({ path: join(outDir, 'layout-chat-open-800x600.png') });
  }, 90_000);

  it('shows one notice on the Documents screen for one state (no embedding model, on a CPU)', async () => {
    await page.getByTestId('nav-documents').click();
    // Full-text only is the state; the CPU warning, the picker's "full-text search only" and the
    // index card are not stacked on it as more warnings.
    await expect.poll(() => page.getByTestId('full-text-notice').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('index-progress').getAttribute('data-state'), { timeout: 20_000 }).toBe('idle');
    expect(await page.locator('[data-notice]').count()).toBe(1);
    expect(await page.locator('.banner').count()).toBe(1);
    await page.screenshot({ path: join(outDir, 'layout-documents-one-notice-800x600.png') });
    // The CPU warning (where there is one) is still the chat screen's notice.
    await page.getByTestId('nav-chat').click();
    expect(await page.locator('[data-notice]').count()).toBeLessThanOrEqual(1);
  });

  it('does what each listed app-wide shortcut says, with the sidebar collapsed', async () => {
    await page.getByTestId('nav-settings').click();
    // The settings screen renders after the click: wait for its list before reading it.
    await expect.poll(() => page.getByTestId('settings-shortcuts').locator('dt').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    const listed = await page.getByTestId('settings-shortcuts').locator('dt, dd').allInnerTexts();
    const pairs = Array.from({ length: listed.length / 2 }, (_, i) => [listed[2 * i]!, listed[2 * i + 1]!] as const);
    const appWide = pairs.filter(([keys]) => keys.startsWith('Ctrl+'));
    expect(appWide.map(([keys]) => keys)).toEqual(['Ctrl+Shift+O', 'Ctrl+K', 'Ctrl+,']);
    await page.getByTestId('sidebar-hide').click();
    const hash = () => new URL(page.url()).hash;
    const effects: Record<string, () => Promise<void>> = {
      'New chat': async () => {
        await expect.poll(hash, { timeout: 10_000 }).toMatch(/^#\/thread\/./);
        await page.getByTestId('composer').waitFor();
      },
      'Search all chats': async () => {
        await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('chat-search');
        expect(await page.getByTestId('chat-search').isVisible()).toBe(true);
        await page.getByTestId('sidebar-hide').click();
      },
      'Open Settings': async () => {
        await expect.poll(hash).toBe('#/settings');
      },
    };
    for (const [keys, says] of appWide) {
      // From another screen, with the sidebar (and the search box in it) collapsed.
      await page.evaluate(() => (location.hash = '#/documents'));
      await page.getByTestId('documents-view').waitFor();
      expect(await page.getByTestId('sidebar-show').isVisible()).toBe(true);
      expect(effects[says], `a test for “${says}”`).toBeDefined();
      await page.keyboard.press(keys.replace(',', 'Comma').replace('Ctrl', 'Control'));
      await effects[says]!();
    }
    // Back to the chat, with the sidebar open, as the next test expects.
    await page.getByTestId('sidebar-show').click();
    await page.getByTestId('nav-chat').click();
  });

  it('draws every picker like the other fields, not as a native unstyled select', async () => {
    const seen: string[] = [];
    for (const screen of ['nav-chat', 'nav-documents', 'nav-models', 'nav-backup', 'nav-settings']) {
      await page.getByTestId(screen).click();
      await page.waitForTimeout(300);
      const selects = await page.locator('select').evaluateAll((elements) =>
        elements.map((el) => ({
          name: el.id || el.getAttribute('data-testid') || el.outerHTML.slice(0, 60),
          appearance: getComputedStyle(el).appearance,
          field: el.classList.contains('field'),
        })),
      );
      for (const select of selects) {
        expect(select, `${screen}: ${select.name}`).toMatchObject({ appearance: 'none', field: true });
        seen.push(`${screen}:${select.name}`);
      }
    }
    // The header's model picker, the Documents embedding picker and the API token expiry at least.
    expect(seen.length, seen.join(', ')).toBeGreaterThanOrEqual(3);
    await page.getByTestId('nav-chat').click();
  });

  it('a dismissed CPU warning stays dismissed on other screens and after a reload', async () => {
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU|CUDA|Vulkan|Metal/);
    if (!(await page.getByTestId('backend-badge').innerText()).includes('CPU')) {
      // A GPU machine has no warning to dismiss; it must not show one either.
      expect(await page.getByTestId('backend-warning').count()).toBe(0);
      return;
    }
    await expect.poll(() => page.getByTestId('backend-warning').count()).toBe(1);
    await page.getByTestId('backend-warning-dismiss').click();
    expect(await page.getByTestId('backend-warning').count()).toBe(0);
    for (const screen of ['nav-models', 'nav-documents', 'nav-backup', 'nav-chat']) {
      await page.getByTestId(screen).click();
      await page.waitForTimeout(200);
      expect(await page.getByTestId('backend-warning').count(), screen).toBe(0);
    }
    await page.reload();
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU/);
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('backend-warning').count()).toBe(0);
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
