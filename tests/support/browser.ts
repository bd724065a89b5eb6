import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium unless HEARTH_CHROMIUM names another; Playwright's own download is not used. */
const CHROMIUM = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

/** Records page errors and console errors into `errors`. */
function recordErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
}

/** Headless Chromium with a page that records page errors and console errors into `errors`. */
export async function openBrowser(
  viewport: { width: number; height: number },
  errors: string[],
  options: { bypassCSP?: boolean } = {},
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  // bypassCSP only for tests that inject a checker script (axe-core) the page's CSP would refuse.
  const page = await browser.newPage({ viewport, bypassCSP: options.bypassCSP ?? false });
  recordErrors(page, errors);
  return { browser, page };
}

/**
 * Headless Chromium on a real profile folder, so it keeps what a user's browser keeps (History,
 * Favicons, Sessions databases); they are complete once the context is closed.
 */
export async function openProfileBrowser(
  profileDir: string,
  viewport: { width: number; height: number },
  errors: string[],
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, args: ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  recordErrors(page, errors);
  context.on('page', (other) => recordErrors(other, errors));
  return { context, page };
}
