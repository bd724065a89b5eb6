import type { CliContext } from '../cliContext';
import { UsageError } from '../usageError';
import type { Group, Node } from './commandSpec';
import { commandHelp, groupHelp } from './help';
import { parseCommand } from './parse';

/** Runs the command `args` names below `node` (path: the words that led there, e.g. "vault target"). */
export async function runNode(node: Node, path: string, args: readonly string[], ctx: CliContext): Promise<number> {
  if (node.kind === 'command') {
    const input = parseCommand(node, path, args, ctx.env);
    if (input === 'help') {
      ctx.stdout(`${commandHelp(node, path)}\n`);
      return 0;
    }
    return node.run(input, ctx);
  }
  const [word, ...rest] = args;
  if (word === undefined) throw new UsageError(`Which ${path} command: ${node.commands.map((c) => c.name).join(', ')}?`, path);
  if (word === '--help' || word === '-h' || word === 'help') {
    ctx.stdout(`${groupHelp(node, path)}\n`);
    return 0;
  }
  const child = node.commands.find((c) => c.name === word);
  if (!child) throw new UsageError(`Unknown command "${path} ${word}"`, path);
  return runNode(child, `${path} ${word}`, rest, ctx);
}

/** The help of the command or group that `words` name below the root, or null when they name none. */
export function helpFor(root: Group, words: readonly string[]): string | null {
  let node: Node = root;
  for (const word of words) {
    if (node.kind !== 'group') return null;
    const child: Node | undefined = node.commands.find((c) => c.name === word);
    if (!child) return null;
    node = child;
  }
  if (node === root) return null;
  const path = words.join(' ');
  return node.kind === 'group' ? groupHelp(node, path) : commandHelp(node, path);
}
