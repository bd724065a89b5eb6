import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const TERMINAL = ['completed', 'failed', 'cancelled', 'interrupted'];

export type JobRole = 'snapshot' | 'publish' | 'restore';

/** The id of the job a vault card shows now, or null when it shows none. */
export async function jobId(page: Page, role: JobRole): Promise<string | null> {
  return page.evaluate((r) => document.querySelector(`[data-testid="${r}-job"]`)?.getAttribute('data-job-id') ?? null, role);
}

/**
 * Waits until the card shows a job other than `previous` and that job has ended; says the
 * error when it did not complete. (The card keeps the last job of its kind, so a second run
 * must not be mistaken for the first one's end.)
 */
export async function ended(page: Page, role: JobRole, previous: string | null = null): Promise<string> {
  const card = page.getByTestId(`${role}-job`);
  const seen = () =>
    page.evaluate((r) => {
      const el = document.querySelector(`[data-testid="${r}-job"]`);
      return el ? { id: el.getAttribute('data-job-id'), status: el.getAttribute('data-status') ?? '' } : null;
    }, role);
  await expect.poll(async () => {
    const now = await seen();
    return now !== null && now.id !== previous && TERMINAL.includes(now.status);
  }, { timeout: 120_000 }).toBe(true);
  const status = (await card.getAttribute('data-status'))!;
  if (status !== 'completed') return `${status}: ${await card.innerText()}`;
  return status;
}

/** The threads table as the user sees it, in a stable order. */
export function threadRows(dataDir: string): unknown[] {
  const db = new BetterSqlite3(join(dataDir, 'hearth.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, title, system_prompt, created_at FROM threads ORDER BY id').all();
  } finally {
    db.close();
  }
}
