// `daemonize yes`: Node cannot fork, so the server starts itself again as a
// detached child (a session of its own, no terminal, standard streams on
// /dev/null as Redis's daemonize() leaves them) and the first process waits
// until that child listens: it exits 0 then, or 1 with the child's reason on
// stderr. The child reports on a pipe at descriptor 3, in one line.
//
// As with Redis's fork, the server is then an orphan: when it exits, whatever
// adopts orphans (init, or a subreaper) collects its exit status. Until that
// happens its pid is a zombie, which kill(pid, 0) still finds; how long that
// lasts is up to init (immediate under systemd; over a second under some
// sandboxes' pid 1, Redis's daemon alike), not up to kvslab.

import { spawn } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';

const CHILD_ENV = 'KVSLAB_DAEMON_CHILD';
const STATUS_FD = 3;
const READY = 'ready';

/**
 * Starts the background server in `cwd` (where this one started: the
 * command line's paths are relative to it) and exits with its outcome.
 * `stdin` is the config text read from standard input (file "-"), handed on.
 */
export function runInBackground(stdin: string | null, cwd: string): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    cwd,
    detached: true,
    stdio: [stdin === null ? 'ignore' : 'pipe', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, [CHILD_ENV]: '1' },
  });
  if (stdin !== null) child.stdin?.end(stdin);
  let report = '';
  const status = child.stdio[STATUS_FD] as NodeJS.ReadableStream;
  status.setEncoding('utf8');
  status.on('data', (d: string) => { report += d; });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`));
  });
  child.once('error', (e) => {
    process.stderr.write(`kvslab-server: cannot start in the background: ${e.message}\n`);
    process.exit(1);
  });
  // The pipe closes when the child is ready, or when it dies.
  status.on('end', () => {
    if (report.trim() === READY) process.exit(0);
    if (report.trim() !== '') {
      process.stderr.write(`${report.trimEnd()}\n`);
      process.exit(1);
    }
    void exited.then((how) => {
      process.stderr.write(`kvslab-server: the background server stopped before it was ready (${how})\n`);
      process.exit(1);
    });
  });
}

/** The background child's side: tells the waiting parent how start-up went. */
export class DaemonChild {
  private open = true;

  /** The child of runInBackground, or null in any other process. */
  static fromEnv(): DaemonChild | null {
    if (process.env[CHILD_ENV] !== '1') return null;
    delete process.env[CHILD_ENV];
    return new DaemonChild();
  }

  ready(): void { this.send(READY); }

  failed(reason: string): void { this.send(reason); }

  private send(line: string): void {
    if (!this.open) return;
    this.open = false;
    try {
      writeSync(STATUS_FD, `${line}\n`);
      closeSync(STATUS_FD);
    } catch {
      // the parent is gone: nobody to tell
    }
  }
}
