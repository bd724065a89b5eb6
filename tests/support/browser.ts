import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium unless HEARTH_CHROMIUM names another; Playwright's own download is not used. */
const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium with a page that records page errors and console errors into `errors`. */
export async function openBrowser(viewport: { width: number; height: number }, errors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return { browser, page };
}
