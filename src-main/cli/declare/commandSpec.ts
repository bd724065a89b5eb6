import type { CliContext } from '../cliContext';
import type { OptionValues, Options } from './options';
import type { PositionalValues, Positionals } from './positionals';

/**
 * What Ctrl+C does to the job a command runs, declared once: the help says it and the
 * job helper (jobProgress.ts) does it. 'pause' keeps the work for the next run of the same
 * command; 'cancel' throws it away. Either way the exit code is 130.
 */
export type Interrupt = 'pause' | 'cancel';

export interface CommandInput<O, P> {
  /** The words that name the command, e.g. "models pull" (for usage errors). */
  command: string;
  options: OptionValues<O>;
  args: PositionalValues<P>;
  /** The declared Ctrl+C behaviour, for the job helper. */
  interrupt: Interrupt;
}

export interface CommandDeclaration<O extends Options, P extends Positionals> {
  name: string;
  /** One line for the parent's list of commands. */
  summary: string;
  /** Usage lines after "hearth", replacing the generated synopsis where it cannot say enough. */
  usage?: string;
  /** The paragraphs between the usage line and the options. */
  description: string;
  options: O;
  positionals: P;
  /** Set for a command that runs a job or another long step Ctrl+C can stop. */
  interrupt?: Interrupt;
  /** Text after the options (exit codes, notes). */
  notes?: string;
  run(input: CommandInput<O, P>, ctx: CliContext): Promise<number>;
}

/** A declared command with its types erased, as the dispatcher and the help generator see it. */
export interface Command {
  kind: 'command';
  name: string;
  summary: string;
  usage: string | null;
  description: string;
  options: Options;
  positionals: Positionals;
  interrupt: Interrupt | null;
  notes: string | null;
  run(input: CommandInput<Options, Positionals>, ctx: CliContext): Promise<number>;
}

/** A command with subcommands (models, vault, vault target). */
export interface Group {
  kind: 'group';
  name: string;
  summary: string;
  description: string | null;
  commands: readonly Node[];
  notes: string | null;
}

export type Node = Command | Group;

export function defineCommand<O extends Options, P extends Positionals>(declaration: CommandDeclaration<O, P>): Command {
  return {
    kind: 'command',
    name: declaration.name,
    summary: declaration.summary,
    usage: declaration.usage ?? null,
    description: declaration.description,
    options: declaration.options,
    positionals: declaration.positionals,
    interrupt: declaration.interrupt ?? null,
    notes: declaration.notes ?? null,
    run: declaration.run as Command['run'],
  };
}

export function defineGroup(declaration: { name: string; summary: string; description?: string; notes?: string; commands: readonly Node[] }): Group {
  return {
    kind: 'group',
    name: declaration.name,
    summary: declaration.summary,
    description: declaration.description ?? null,
    commands: declaration.commands,
    notes: declaration.notes ?? null,
  };
}
