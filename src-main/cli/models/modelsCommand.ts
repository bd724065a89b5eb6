import { defineGroup } from '../declare/commandSpec';
import { fitCommand } from './fitCommand';
import { catalogCommand, filesCommand, searchCommand } from './hubCommands';
import { addCommand, defaultCommand, importCommand, infoCommand, lsCommand, rmCommand } from './libraryCommands';
import { pullCommand } from './pullCommand';

/** `hearth models ls|add|import|rm|info|search|files|fit|pull|default|catalog`. */
export const modelsCommand = defineGroup({
  name: 'models',
  summary: 'Catalog, Hugging Face search, fit, pull, ls, info, add, import, rm, default (hearth models --help)',
  commands: [catalogCommand, searchCommand, filesCommand, fitCommand, pullCommand, lsCommand, infoCommand, addCommand, importCommand, rmCommand, defaultCommand],
  notes: `SOURCE is a catalog id (qwen2.5-1.5b-instruct, with :QUANT or --quant Q8_0), a Hugging
Face file (owner/repo/file.gguf) or a plain URL (a mirror, a file server on your LAN).`,
});
