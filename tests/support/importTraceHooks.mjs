import { appendFileSync } from 'node:fs';

/** Module resolve hook: writes the specifier, then resolves as usual. */
export async function resolve(specifier, context, nextResolve) {
  const out = process.env.HEARTH_IMPORT_TRACE;
  if (out) appendFileSync(out, `${specifier}\n`);
  return nextResolve(specifier, context);
}
