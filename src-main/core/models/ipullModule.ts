import type * as IpullModule from 'ipull';

/** The ipull module's type, for code that loads it with ipullModule(). */
export type Ipull = typeof IpullModule;

let loading: Promise<Ipull> | null = null;
let loaded: Ipull | null = null;

/**
 * ipull, loaded at the first download. With what it brings (chalk, spinners, a terminal
 * renderer...) it costs about 0.15 s of CPU to load, which every other command (the vault's,
 * search, settings) should not pay: tests/integration/cliLazyLoad keeps it so.
 */
export function ipullModule(): Promise<Ipull> {
  loading ??= import('ipull').then((module) => (loaded = module));
  return loading;
}

/** The module once a download has loaded it, else null (then no error can be one of its classes). */
export function ipullIfLoaded(): Ipull | null {
  return loaded;
}
