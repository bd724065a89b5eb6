// Svelte options for the renderer (vite-plugin-svelte and svelte-check read this file).
// TypeScript in <script lang="ts"> needs no preprocessor in Svelte 5.
/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  compilerOptions: { runes: true },
};
