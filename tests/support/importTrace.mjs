// Loaded with `node --import`: records every module specifier the process resolves, one a
// line, in the file HEARTH_IMPORT_TRACE names (the hooks run in their own thread).
import { register } from 'node:module';

register('./importTraceHooks.mjs', import.meta.url);
