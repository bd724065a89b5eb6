import { basename, extname } from 'node:path';
import type { DocumentFormat } from '../types';

const DOCUMENT_EXTENSIONS: Readonly<Record<string, DocumentFormat>> = {
  md: 'markdown',
  markdown: 'markdown',
  mdx: 'markdown',
  txt: 'text',
  text: 'text',
  log: 'text',
  rst: 'text',
  org: 'text',
  pdf: 'pdf',
  docx: 'docx',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  epub: 'epub',
  csv: 'csv',
  tsv: 'csv',
  // Read by OCR, when it is on.
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
};

/** Source-code extensions and the language each names; the name is for display and chunk metadata. */
const CODE_LANGUAGES: Readonly<Record<string, string>> = {
  ts: 'typescript',
  tsx: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  py: 'python',
  pyi: 'python',
  rb: 'ruby',
  go: 'go',
  rs: 'rust',
  java: 'java',
  kt: 'kotlin',
  kts: 'kotlin',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  hh: 'cpp',
  hxx: 'cpp',
  cs: 'csharp',
  fs: 'fsharp',
  swift: 'swift',
  m: 'objective-c',
  mm: 'objective-cpp',
  php: 'php',
  sh: 'shell',
  bash: 'shell',
  zsh: 'shell',
  fish: 'shell',
  ps1: 'powershell',
  bat: 'batch',
  cmd: 'batch',
  sql: 'sql',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
  ini: 'ini',
  cfg: 'ini',
  json: 'json',
  jsonc: 'json',
  json5: 'json',
  xml: 'xml',
  css: 'css',
  scss: 'scss',
  sass: 'sass',
  less: 'less',
  svelte: 'svelte',
  vue: 'vue',
  astro: 'astro',
  lua: 'lua',
  r: 'r',
  scala: 'scala',
  sc: 'scala',
  dart: 'dart',
  ex: 'elixir',
  exs: 'elixir',
  erl: 'erlang',
  hs: 'haskell',
  ml: 'ocaml',
  mli: 'ocaml',
  clj: 'clojure',
  cljs: 'clojure',
  edn: 'clojure',
  pl: 'perl',
  pm: 'perl',
  jl: 'julia',
  zig: 'zig',
  nim: 'nim',
  v: 'v',
  groovy: 'groovy',
  gradle: 'groovy',
  tf: 'terraform',
  proto: 'protobuf',
  graphql: 'graphql',
  gql: 'graphql',
  sol: 'solidity',
  asm: 'assembly',
  s: 'assembly',
  vim: 'vim',
  cmake: 'cmake',
  mk: 'make',
  tex: 'latex',
};

/** Well-known extension-less source files. */
const CODE_FILE_NAMES: Readonly<Record<string, string>> = {
  dockerfile: 'dockerfile',
  containerfile: 'dockerfile',
  makefile: 'make',
  gnumakefile: 'make',
  justfile: 'just',
  rakefile: 'ruby',
  gemfile: 'ruby',
  'cmakelists.txt': 'cmake',
};

/** The format Hearth parses a file as, from its name alone; null when Hearth does not read it. */
export function formatFor(path: string): DocumentFormat | null {
  if (languageFor(path) !== null) return 'code';
  return DOCUMENT_EXTENSIONS[extensionOf(path)] ?? null;
}

/** The programming language of a source file, or null when the path is not source code. */
export function languageFor(path: string): string | null {
  const name = basename(path).toLowerCase();
  return CODE_FILE_NAMES[name] ?? CODE_LANGUAGES[extensionOf(path)] ?? null;
}

function extensionOf(path: string): string {
  return extname(path).slice(1).toLowerCase();
}
