import type { ReceiptFields } from '#contract/dto';

/**
 * Every leaf of a receipt's fields, by path, each with a copy of the fields where that leaf is
 * one byte (or one unit) different: a hex digit flipped in a hash, a character added to a
 * name, one added to a number, a boolean negated.
 */
export function receiptMutations(fields: ReceiptFields): { path: string; changed: ReceiptFields }[] {
  const out: { path: string; changed: ReceiptFields }[] = [];
  const visit = (node: unknown, path: (string | number)[]) => {
    if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) visit(child, [...path, Array.isArray(node) ? Number(key) : key]);
      return;
    }
    const changed = structuredClone(fields);
    let parent = changed as unknown as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path.at(-1)!;
    if (typeof node === 'number') parent[last] = node + 1;
    else if (typeof node === 'boolean') parent[last] = !node;
    else if (typeof node === 'string' && /^0x[0-9a-f]{64}$/.test(node)) parent[last] = `${node.slice(0, -1)}${node.endsWith('0') ? '1' : '0'}`;
    else if (typeof node === 'string' && /^\d/.test(node)) parent[last] = String(Number(node) + 1);
    else parent[last] = `${node as string}x`;
    out.push({ path: path.join('.'), changed });
  };
  visit(fields, []);
  return out;
}
