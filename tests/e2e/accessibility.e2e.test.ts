import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import { testModelPath } from '../support/testModels';

const AXE = join(__dirname, '..', '..', 'node_modules', 'axe-core', 'axe.min.js');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Every screen in real Chromium at 800×600 against `hearth serve`, checked with axe-core: no
 * serious or critical violations (WCAG 2.1 A/AA rules and best practices), and a screenshot of
 * each screen. The page's CSP admits only its own scripts, so this browser context bypasses it to
 * inject axe; nothing else differs from what a user gets.
 */
describe('accessibility: every screen passes axe-core at 800×600 (e2e)', () => {
  let page: Page;
  const errors: string[] = [];

  /** Runs axe on the page as it is and returns the serious and critical violations. */
  async function seriousViolations(): Promise<Violation[]> {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
    return page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
      const result = await axe.run(document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.slice(0, 8).map((n) => `${JSON.stringify(n.target)} ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 160)}`) }));
    });
  }

  async function check(screen: string): Promise<void> {
    // Let transitions and late data settle so the colours axe reads are the final ones.
    await page.waitForTimeout(400);
    await page.screenshot({ path: join(outDir, `a11y-${screen}-800x600.png`) });
    expect(await seriousViolations(), screen).toEqual([]);
  }

  beforeAll(async () => {
    const model = await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-a11y-',
      viewport: { width: 800, height: 600 },
      errors,
      seed: async (core) => expect((await core.models.add(model)).defaultFor).toEqual(['chat']),
      testModels: true,
      bypassCSP: true,
      open: true,
      waitFor: 'composer',
    });
    ({ page } = app);
    return app.close;
  });

  it('the empty chat (welcome), with the sidebar collapsed (800 px) and open', async () => {
    await check('welcome-collapsed');
    await page.getByTestId('sidebar-show').click();
    await check('welcome');
  });

  it('a chat with a thread and a reply', async () => {
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/^(complete|length)$/);
    await check('chat');
  }, 90_000);

  it('Documents', async () => {
    await page.getByTestId('nav-documents').click();
    await page.getByTestId('documents-view').waitFor();
    await check('documents');
  });

  it('each Models tab', async () => {
    await page.getByTestId('nav-models').click();
    for (const tab of ['discover', 'downloads', 'local']) {
      await page.getByTestId(`models-tab-${tab}`).click();
      await expect.poll(() => page.getByTestId(`models-tab-${tab}`).getAttribute('aria-selected')).toBe('true');
      await check(`models-${tab}`);
    }
  });

  it('Backup', async () => {
    await page.getByTestId('nav-backup').click();
    await expect.poll(() => page.getByTestId('backup-view').getAttribute('data-state'), { timeout: 20_000 }).not.toBe('loading');
    await check('backup');
  });

  it('Settings', async () => {
    await page.getByTestId('nav-settings').click();
    await page.getByTestId('settings-view').waitFor();
    await check('settings');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
