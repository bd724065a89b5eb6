import { z } from 'zod';
import type { VaultTargetKind } from '#contract/dto';

/**
 * What the vault saves for each target (a JSON column of vault.db): enough to open it again.
 * Read back through `targetConfigSchema`, so a damaged row is a coded error, never a missing
 * field discovered half way through a publish.
 */
export const targetConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), path: z.string().min(1) }),
  z.object({ kind: z.literal('kubo'), apiUrl: z.string().min(1) }),
  z.object({ kind: z.literal('w3up'), email: z.string().min(1), space: z.string().startsWith('did:') }),
]);

export type TargetConfig = z.infer<typeof targetConfigSchema>;
export type TargetConfigOf<K extends VaultTargetKind> = { [C in TargetConfig as C['kind']]: C }[K];

// Every kind the contract names has a saved config, and no other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kindsMatch: Same<TargetConfig['kind'], VaultTargetKind> = true;
void kindsMatch;
