import { describe, expect, it } from 'vitest';
import type { CliContext } from '../../src-main/cli/cliContext';
import { COMMANDS } from '../../src-main/cli/commandIndex';
import { rootCommand } from '../../src-main/cli/commands';
import { defineCommand, defineGroup, type Command, type Group } from '../../src-main/cli/declare/commandSpec';
import { runNode } from '../../src-main/cli/declare/dispatch';
import { ErrorLog } from '../../src-main/cli/errorLog';
import { commandHelp, groupHelp, INTERRUPT_TEXT } from '../../src-main/cli/declare/help';
import { choice, flag, integer, text } from '../../src-main/cli/declare/options';
import { parseCommand } from '../../src-main/cli/declare/parse';
import { arg, optionalArg, words } from '../../src-main/cli/declare/positionals';
import { printResult } from '../../src-main/cli/output';
import { UsageError } from '../../src-main/cli/usageError';

/** A context that records what a command prints; nothing else of the process is used here. */
function recordingContext(env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const ctx: CliContext = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    env,
    version: '0.0.0-test',
    defaultRendererDir: '',
    catalogPath: '',
    parseWorkerPath: '',
    readStdin: async () => '',
    onSignal: () => () => undefined,
    onUserRequest: () => () => undefined,
    stdio: { input: process.stdin, output: process.stdout },
    pid: 0,
    errorLog: new ErrorLog(null),
  };
  return { ctx, out };
}

const seen: unknown[] = [];
const demo = defineCommand({
  name: 'demo',
  summary: 'A command for the tests',
  description: 'Does nothing but record what it was given.',
  interrupt: 'pause',
  options: {
    tag: text('NAME', 'A tag').repeat().alias('t'),
    limit: integer('N', 'How many (default 10)', { min: 1, max: 100 }).orElse(10),
    mode: choice('MODE', ['fast', 'slow'] as const, 'fast or slow').fromEnv('DEMO_MODE'),
    to: text('TARGET', 'Where to').require('Where to? --to TARGET'),
    verbose: flag('Say more'),
  },
  positionals: { id: arg('ID', 'What to act on', 'demo needs an ID'), rest: optionalArg('MORE', 'Something else') },
  async run(input) {
    seen.push(input);
    return 0;
  },
});

const parse = (args: string[], env: Record<string, string> = {}) => {
  const input = parseCommand(demo, 'demo', args, env);
  if (input === 'help') throw new Error('unexpected help');
  return input;
};

function usageError(run: () => unknown): UsageError {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('no usage error');
}

describe('declared commands: parsing', () => {
  it('gives each option its declared type, default and repeats', () => {
    const input = parse(['x', '--to', 'usb', '-t', 'a', '--tag=b', '--verbose']);
    expect(input.options).toEqual({ tag: ['a', 'b'], limit: 10, mode: undefined, to: 'usb', verbose: true });
    expect(input.args).toEqual({ id: 'x', rest: undefined });
    expect(input.command).toBe('demo');
    expect(input.interrupt).toBe('pause');
    expect(parse(['x', 'y', '--to', 'usb', '--limit', '3', '--limit', '4']).options.limit).toBe(4);
    expect(parse(['x', 'y', '--to', 'usb']).args.rest).toBe('y');
  });

  it('refuses an unknown option, a missing value and a bad value, naming the command', () => {
    const unknown = usageError(() => parse(['x', '--to', 'usb', '--nope']));
    expect(unknown.command).toBe('demo');
    expect(unknown.message).toMatch(/--nope/);
    expect(usageError(() => parse(['x', '--to'])).message).toMatch(/--to/);
    expect(usageError(() => parse(['x', '--to', 'usb', '--limit', '0'])).message).toBe('--limit must be a whole number from 1 to 100, not "0"');
    expect(usageError(() => parse(['x', '--to', 'usb', '--mode', 'warp'])).message).toBe('--mode must be one of fast, slow, not "warp"');
    expect(usageError(() => parse(['x', '--to', 'usb', '--verbose=yes'])).message).toMatch(/verbose/);
  });

  it('requires what is declared required, with the declared message', () => {
    expect(usageError(() => parse(['--to', 'usb'])).message).toBe('demo needs an ID');
    expect(usageError(() => parse(['x'])).message).toBe('Where to? --to TARGET');
    expect(usageError(() => parse(['x', 'y', 'z', '--to', 'usb'])).message).toBe('Unexpected argument "z"');
  });

  it('reads an environment variable when the option is not given, and the option wins over it', () => {
    expect(parse(['x', '--to', 'usb'], { DEMO_MODE: 'SLOW' }).options.mode).toBe('slow');
    expect(parse(['x', '--to', 'usb', '--mode', 'fast'], { DEMO_MODE: 'slow' }).options.mode).toBe('fast');
    expect(parse(['x', '--to', 'usb'], { DEMO_MODE: '' }).options.mode).toBeUndefined();
    expect(usageError(() => parse(['x', '--to', 'usb'], { DEMO_MODE: 'warp' })).message).toBe('$DEMO_MODE must be one of fast, slow, not "warp"');
  });

  it('joins the words of a words positional and requires at least one', () => {
    const ask = defineCommand({
      name: 'ask',
      summary: '',
      description: '',
      options: {},
      positionals: { question: words('QUESTION', 'What to ask', 'Ask something') },
      run: async () => 0,
    });
    const input = parseCommand(ask, 'ask', ['what', ' is', 'this '], {});
    expect(input !== 'help' && input.args.question).toBe('what  is this');
    expect(usageError(() => parseCommand(ask, 'ask', ['  '], {})).message).toBe('Ask something');
  });

  it('answers --help before checking anything else', () => {
    expect(parseCommand(demo, 'demo', ['--help'], {})).toBe('help');
    expect(parseCommand(demo, 'demo', ['-h', '--limit', 'many'], {})).toBe('help');
  });
});

describe('declared commands: dispatch', () => {
  const group = defineGroup({ name: 'tools', summary: 'Tools', commands: [demo] });

  it('runs the command a group names, and prints generated help', async () => {
    const { ctx, out } = recordingContext();
    seen.length = 0;
    expect(await runNode(group, 'tools', ['demo', 'x', '--to', 'usb'], ctx)).toBe(0);
    expect(seen).toHaveLength(1);
    expect(await runNode(group, 'tools', ['demo', '--help'], ctx)).toBe(0);
    // The usage line wraps at the terminal width; its words are these, in this order.
    expect(out.stdout.replace(/\s+/g, ' ')).toContain('Usage: hearth tools demo ID [MORE] [--tag NAME] [--limit N] [--mode MODE] --to TARGET [--verbose]');
    expect(await runNode(group, 'tools', ['help'], ctx)).toBe(0);
    expect(out.stdout).toContain('Usage: hearth tools <command> [options]');
  });

  it('refuses a missing or unknown subcommand with a usage error for the group', async () => {
    const { ctx } = recordingContext();
    await expect(runNode(group, 'tools', [], ctx)).rejects.toThrow('Which tools command: demo?');
    await expect(runNode(group, 'tools', ['frob'], ctx)).rejects.toMatchObject({ message: 'Unknown command "tools frob"', command: 'tools' });
  });
});

describe('declared commands: help', () => {
  it('lists every declared option and argument, with its value name, repeats, requirement and variable', () => {
    const help = commandHelp(demo, 'demo');
    expect(help).toMatch(/^ {2}-t, --tag NAME {6}A tag \(repeatable\)$/m);
    expect(help).toMatch(/^ {2}--mode MODE {9}fast or slow \(else \$DEMO_MODE\)$/m);
    expect(help).toMatch(/^ {2}--to TARGET {9}Where to \(required\)$/m);
    expect(help).toMatch(/^ {2}--verbose {11}Say more$/m);
    expect(help).toMatch(/^ {2}ID {18}What to act on$/m);
    expect(help).toMatch(/^ {2}-h, --help {10}Show this help$/m);
    expect(help).toContain(INTERRUPT_TEXT.pause);
  });

  /** Every command of hearth, with the words that name it. */
  function commands(node: Group, path: string[] = []): [string, Command][] {
    return node.commands.flatMap((child) => {
      const words = [...path, child.name];
      return child.kind === 'group' ? commands(child, words) : [[words.join(' '), child] as [string, Command]];
    });
  }

  it('says, for every command of hearth, each of its options and arguments', () => {
    const all = commands(rootCommand);
    expect(all.length).toBeGreaterThan(25);
    for (const [path, command] of all) {
      const help = commandHelp(command, path);
      expect(help, path).toMatch(new RegExp(`^Usage: hearth ${path}\\b`));
      for (const name of Object.keys(command.options)) expect(help, `${path} --${name}`).toMatch(new RegExp(`^ {2}(-\\w, )?--${name}\\b`, 'm'));
      for (const p of Object.values(command.positionals)) expect(help, `${path} ${p.name}`).toContain(`  ${p.name}`);
      if (command.interrupt) expect(help, path).toContain(INTERRUPT_TEXT[command.interrupt]);
    }
  });

  it('declares what Ctrl+C does for every command that runs a job: pause where it resumes, cancel otherwise', () => {
    const interrupts = Object.fromEntries(commands(rootCommand).flatMap(([path, c]) => (c.interrupt ? [[path, c.interrupt]] : [])));
    expect(interrupts).toEqual({
      index: 'pause',
      'models pull': 'pause',
      // A new embedding default re-embeds the documents, as in the app; the command waits for it.
      'models default': 'pause',
      'vault target add': 'cancel',
      'vault snapshot': 'cancel',
      'vault publish': 'cancel',
      'vault restore': 'pause',
    });
  });

  it('lists a group’s commands with their summaries', () => {
    const vault = rootCommand.commands.find((c): c is Group => c.kind === 'group' && c.name === 'vault')!;
    const help = groupHelp(vault, 'vault');
    for (const command of vault.commands) expect(help).toMatch(new RegExp(`^ {2}${command.name}\\b`, 'm'));
    expect(help).toContain('restore --data-dir NEW --phrase-file F');
  });
});

describe('one output path', () => {
  it('prints the data as JSON with --json, else the text (computed only then)', () => {
    const { ctx, out } = recordingContext();
    let computed = 0;
    printResult(ctx, true, { a: 1 }, () => `text ${++computed}`);
    expect(out.stdout).toBe('{\n  "a": 1\n}\n');
    expect(computed).toBe(0);
    printResult(ctx, false, { a: 1 }, () => `text ${++computed}`);
    printResult(ctx, false, null, 'ends\n');
    expect(out.stdout).toBe('{\n  "a": 1\n}\ntext 1\nends\n');
  });

  it('loads each top-level command by name: the same commands, in the same order, as the help lists', async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(rootCommand.commands.map((c) => c.name));
    for (const [i, entry] of COMMANDS.entries()) expect(await entry.load(), entry.name).toBe(rootCommand.commands[i]);
  });
});
