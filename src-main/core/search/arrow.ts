import { createRequire } from 'node:module';
import type * as ArrowModule from 'apache-arrow';

// LanceDB is CommonJS and checks `instanceof` against the CommonJS build of apache-arrow; an
// ESM import would load the package's other build, whose classes LanceDB does not recognise.
// So Arrow is required, the same way LanceDB loads it: one copy of every class.
export const arrow = createRequire(import.meta.url)('apache-arrow') as typeof ArrowModule;
export type ArrowTable = InstanceType<typeof arrow.Table>;
