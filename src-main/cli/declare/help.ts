import type { Command, Group, Interrupt, Node } from './commandSpec';
import type { OptionSpec } from './options';

/** Where the help column starts, and how wide a line may get before a summary wraps. */
const COLUMN = 22;
const WIDTH = 92;
/** The longest synopsis a list of commands shows whole. */
const LISTED_MAX = 44;

/** What Ctrl+C does, said the same way in every command's help. */
export const INTERRUPT_TEXT: Readonly<Record<Interrupt, string>> = {
  pause: 'Ctrl+C pauses (exit code 130): what is done is kept, and running the same command again resumes.',
  cancel: 'Ctrl+C cancels (exit code 130): this does not resume; running the command again starts over.',
};

/** `hearth PATH --help` for a command, generated from its declaration. */
export function commandHelp(command: Command, path: string): string {
  const usage = `Usage: hearth ${path} `;
  const sections = [command.usage ? `${usage}${command.usage}` : wrapTokens(usage, synopsis(command)), command.description];
  if (command.interrupt) sections.push(INTERRUPT_TEXT[command.interrupt]);
  const positionals = Object.values(command.positionals);
  if (positionals.length > 0) sections.push(`Arguments:\n${positionals.map((p) => row(p.name, p.help)).join('\n')}`);
  const options = Object.entries(command.options);
  const own = options.filter(([, spec]) => spec.group === null);
  const shared = options.filter(([, spec]) => spec.group !== null);
  const lines = [...own, ...shared].map(([name, spec]) => row(optionLabel(name, spec), optionHelp(spec)));
  lines.push(row('-h, --help', 'Show this help'));
  sections.push(`Options:\n${lines.join('\n')}`);
  if (command.notes) sections.push(command.notes);
  return sections.join('\n\n');
}

/** `hearth PATH --help` for a group: its commands with their summaries. */
export function groupHelp(group: Group, path: string): string {
  const sections = [`Usage: hearth ${path} <command> [options]`];
  if (group.description) sections.push(group.description);
  sections.push(`Commands:\n${commandList(group.commands, 28)}`);
  if (group.notes) sections.push(group.notes);
  sections.push(`Run "hearth ${path} <command> --help" for details.`);
  return sections.join('\n\n');
}

/** `hearth --help`: the top-level commands, each with its arguments or "..." for a group. */
export function rootHelp(root: Group, version: { title: string; footer: string }): string {
  return [
    version.title,
    'Usage: hearth <command> [options]',
    `Commands:\n${commandList(root.commands, COLUMN, true)}`,
    `Options:\n${row('-h, --help', 'Show help (also: hearth <command> --help)')}\n${row('-v, --version', 'Print the version')}`,
    version.footer,
  ].join('\n\n');
}

/** The one-line form of a command: its positionals, its own options, then [options] for the shared ones. */
export function synopsis(command: Command): string {
  const parts: string[] = [];
  for (const p of Object.values(command.positionals)) parts.push(p.kind === 'optional' ? `[${p.name}]` : p.name);
  const options = Object.entries(command.options);
  for (const [name, spec] of options) {
    if (spec.group !== null) continue;
    const label = spec.valueName ? `--${name} ${spec.valueName}` : `--${name}`;
    parts.push(spec.required ? label : `[${label}]`);
  }
  if (options.some(([, spec]) => spec.group !== null)) parts.push('[options]');
  return parts.join(' ');
}

/** How a list of commands shows one: its whole synopsis when short, else its positionals and required options. */
function listed(node: Node, root: boolean): string {
  if (node.kind === 'group') {
    if (node.commands.length === 1) return `${node.name} ${node.commands[0]!.name}`;
    return root ? `${node.name} ...` : `${node.name} ${node.commands.map((c) => c.name).join('|')}`;
  }
  const own = synopsis(node).replace(/ ?\[options\]$/, '');
  if (!root && `${node.name} ${own}`.length <= LISTED_MAX) return `${node.name} ${own}`.trimEnd();
  const parts = [node.name];
  for (const p of Object.values(node.positionals)) parts.push(p.kind === 'optional' ? `[${p.name}]` : p.name);
  for (const [name, spec] of Object.entries(node.options)) if (spec.required) parts.push(`--${name} ${spec.valueName ?? ''}`.trimEnd());
  return parts.join(' ');
}

function commandList(nodes: readonly Node[], column: number, root = false): string {
  return nodes.map((node) => row(listed(node, root), node.summary, column)).join('\n');
}

function optionLabel(name: string, spec: OptionSpec<unknown>): string {
  const long = spec.valueName ? `--${name} ${spec.valueName}` : `--${name}`;
  return spec.short ? `-${spec.short}, ${long}` : long;
}

/** The declared help, plus what the declaration says that the text may not: repeatable, the environment variable. */
function optionHelp(spec: OptionSpec<unknown>): string {
  let help = spec.help;
  if (spec.repeatable && !/repeatable/i.test(help)) help += ' (repeatable)';
  if (spec.required && !/required/i.test(help)) help += ' (required)';
  if (spec.env && !help.includes(`$${spec.env}`)) help += ` (else $${spec.env})`;
  return help;
}

/** "  label   help", the help wrapped at WIDTH and its later lines under the column; a long label gets a line of its own. */
function row(label: string, help: string, column = COLUMN): string {
  const indent = ' '.repeat(column);
  const lines = help.split('\n').flatMap((line) => wrap(line.trim(), WIDTH - column));
  const first = `  ${label}`;
  const head = first.length + 2 <= column ? `${first.padEnd(column)}${lines[0] ?? ''}` : `${first}\n${indent}${lines[0] ?? ''}`;
  return [head.trimEnd(), ...lines.slice(1).map((line) => `${indent}${line}`)].join('\n');
}

/** A generated usage line, wrapped at WIDTH between its parts ([--name VALUE] stays whole), later lines under the first part. */
function wrapTokens(prefix: string, line: string): string {
  const tokens = line.match(/\[[^\]]*\]|\S+/g) ?? [];
  const lines = [prefix.trimEnd()];
  for (const token of tokens) {
    const last = lines.length - 1;
    if (lines[last]!.length + 1 + token.length > WIDTH && lines[last]!.trim() !== '') lines.push(`${' '.repeat(prefix.length - 1)}${token}`);
    else lines[last] = `${lines[last]} ${token}`;
  }
  return lines.join('\n');
}

function wrap(line: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  lines.push(current);
  return lines;
}
