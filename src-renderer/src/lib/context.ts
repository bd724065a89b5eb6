import { getContext, setContext } from 'svelte';
import type { HearthApp } from './stores/hearthApp.svelte';

const KEY = Symbol('hearth-app');

/** App.svelte provides the one HearthApp; components read it instead of importing a singleton. */
export function provideApp(app: HearthApp): void {
  setContext(KEY, app);
}

export function useApp(): HearthApp {
  const app = getContext<HearthApp | undefined>(KEY);
  if (!app) throw new Error('useApp() outside <App>');
  return app;
}
