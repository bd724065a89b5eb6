import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every socket address a process tree tried to reach, seen by the kernel's syscalls through
 * strace (connect, and sendto/sendmsg with an address, as unconnected UDP such as DNS sends):
 * native code (node-llama-cpp, LanceDB, better-sqlite3) and child processes included, so no
 * JavaScript can go around it. strace runs with --seccomp-bpf, which stops the traced process
 * only on those calls, so the session runs at nearly full speed.
 */
export interface SocketCall {
  pid: number;
  call: string;
  family: string;
  /** The IP address for AF_INET/AF_INET6, the path for AF_UNIX, '' otherwise. */
  address: string;
  port: number | null;
  line: string;
}

/** Fails with a clear message when strace is missing or tracing is not permitted here. */
export function assertStraceWorks(): void {
  const probe = spawnSync('strace', ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=connect', '-o', '/dev/null', '--', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `The offline-session test checks sockets with strace, which ${probe.error ? 'is not installed (apt-get install strace)' : `cannot trace here: ${probe.stderr.trim()}`}. It needs strace and the ptrace permission (root in CI).`,
    );
  }
}

export interface TracedProcess {
  /** The traced command (strace's child), for its pipes. */
  strace: ChildProcess;
  /** The traced program's own pid, once strace has started it. */
  pid(): number;
  /** Waits for the process tree to exit, then returns every socket call it made. */
  calls(): Promise<SocketCall[]>;
}

/** Runs `command args` under strace, writing the trace to `log`. */
export function traceSockets(log: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): TracedProcess {
  const strace = spawn(
    'strace',
    ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-e', 'signal=none', '-s', '128', '-o', log, '--', command, ...args],
    { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  return {
    strace,
    pid() {
      // strace's only child is the traced program.
      const children = childrenOf(strace.pid!);
      if (children.length !== 1) throw new Error(`expected strace to have one child, found ${children.length}`);
      return children[0]!;
    },
    async calls() {
      await exited;
      return parseTrace(readFileSync(log, 'utf8'));
    },
  };
}

/** A process's children: from /proc's children list, else by each process's parent in /proc/PID/stat. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((name) => {
        try {
          // "PID (comm) STATE PPID ...": the command name may hold spaces, so read after its closing parenthesis.
          const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  }
}

/** The socket addresses in an strace log, one entry per address in a call. */
export function parseTrace(text: string): SocketCall[] {
  const calls: SocketCall[] = [];
  for (const line of text.split('\n')) {
    const head = /^(\d+)\s+(\w+)\(/.exec(line);
    if (!head) continue;
    for (const match of line.matchAll(/\{sa_family=(AF_\w+)([^}]*)\}/g)) {
      const family = match[1]!;
      const rest = match[2]!;
      const v4 = /sin_addr=inet_addr\("([^"]+)"\)/.exec(rest)?.[1];
      const v6 = /inet_pton\(AF_INET6, "([^"]+)"/.exec(rest)?.[1];
      const path = /sun_path=@?"([^"]*)"/.exec(rest)?.[1];
      const port = /sin6?_port=htons\((\d+)\)/.exec(rest)?.[1];
      calls.push({ pid: Number(head[1]), call: head[2]!, family, address: v4 ?? v6 ?? path ?? '', port: port ? Number(port) : null, line });
    }
  }
  return calls;
}

/** 127.0.0.0/8, ::1 and ::ffff:127.x: this machine. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d+\.\d+\.\d+$/.test(v4) || address === '::1';
}

/**
 * The calls that could reach another machine: any IPv4 or IPv6 address but loopback, and any
 * socket family other than local ones (AF_UNIX, the kernel's AF_NETLINK, AF_UNSPEC which
 * disconnects a UDP socket).
 */
export function leavingCalls(calls: SocketCall[]): SocketCall[] {
  return calls.filter((c) => {
    if (c.family === 'AF_INET' || c.family === 'AF_INET6') return !isLoopbackAddress(c.address);
    return !['AF_UNIX', 'AF_LOCAL', 'AF_NETLINK', 'AF_UNSPEC'].includes(c.family);
  });
}
