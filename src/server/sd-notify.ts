// Service-manager supervision (`supervised`): systemd's sd_notify protocol
// (READY=1 once kvslab listens, STOPPING=1 when it stops) and upstart's
// raise(SIGSTOP) when ready, as Redis does.
//
// sd_notify is one datagram on the AF_UNIX SOCK_DGRAM socket named by
// NOTIFY_SOCKET. Node has no unix datagram sockets (node:dgram is UDP only,
// node:net stream only), so the datagram is sent by systemd's own
// systemd-notify tool: one short-lived child per message. systemd accepts it
// from a process of the service other than the main one only with
// NotifyAccess=all (conf/kvslab.service); systemd-notify waits until systemd
// has read the message (its barrier), so the message is not lost with the
// child. --pid names kvslab as the main PID, and as the sender when allowed.

import { spawn } from 'node:child_process';
import type { Logger } from './logger.js';

export type Supervision = 'systemd' | 'upstart' | 'no';

/** Longest wait for systemd-notify (it waits for systemd to read the message). */
const NOTIFY_TIMEOUT_MS = 5000;

/**
 * Who supervises: auto picks upstart when UPSTART_JOB is set, systemd when
 * NOTIFY_SOCKET is; a supervisor asked for but missing from the environment
 * is a problem (Redis's warning) and means none.
 */
export function detectSupervision(setting: string, env: NodeJS.ProcessEnv): { mode: Supervision; problem: string | null } {
  if (setting === 'auto') return { mode: env.UPSTART_JOB ? 'upstart' : env.NOTIFY_SOCKET ? 'systemd' : 'no', problem: null };
  if (setting === 'systemd' && !env.NOTIFY_SOCKET) {
    return { mode: 'no', problem: 'systemd supervision requested or auto-detected, but NOTIFY_SOCKET environment variable not found!' };
  }
  if (setting === 'upstart' && !env.UPSTART_JOB) return { mode: 'no', problem: 'upstart supervision requested, but UPSTART_JOB not found!' };
  return { mode: setting === 'systemd' || setting === 'upstart' ? setting : 'no', problem: null };
}

export class Supervisor {
  constructor(
    readonly mode: Supervision,
    private readonly logger: Logger,
  ) {}

  /**
   * The `supervised` setting against the environment (see detectSupervision),
   * logged as Redis logs it.
   */
  static resolve(setting: string, logger: Logger, env = process.env): Supervisor {
    const { mode, problem } = detectSupervision(setting, env);
    if (problem) logger.log('warning', problem);
    if (mode === 'systemd') {
      logger.log('notice', 'Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.');
    }
    if (mode === 'upstart') logger.log('notice', 'Supervised by upstart, will stop to signal readiness.');
    return new Supervisor(mode, logger);
  }

  /** kvslab listens: systemd gets READY=1 with a status line; upstart sees the process stop. */
  ready(status: string): void {
    if (this.mode === 'systemd') {
      void this.notify(['READY=1', `STATUS=${status}`]);
    } else if (this.mode === 'upstart') {
      delete process.env.UPSTART_JOB;
      process.kill(process.pid, 'SIGSTOP');
    }
  }

  /** kvslab begins to stop. Resolves once systemd has the message (or it could not be sent). */
  stopping(): Promise<void> {
    if (this.mode !== 'systemd') return Promise.resolve();
    return this.notify(['STOPPING=1']);
  }

  /** One sd_notify message of `fields` (KEY=value) through systemd-notify. */
  private notify(fields: string[]): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn('systemd-notify', [`--pid=${process.pid}`, ...fields], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      const timer = setTimeout(() => child.kill('SIGKILL'), NOTIFY_TIMEOUT_MS);
      let settled = false;
      const done = (why: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (why !== null) this.logger.log('warning', `systemd supervision error: ${why}`);
        resolve();
      };
      child.on('error', (e) => done(`cannot run systemd-notify: ${e.message}`));
      child.on('exit', (code, signal) => {
        if (code === 0) done(null);
        else done(`systemd-notify ${fields.join(' ')} failed (${signal ?? `exit ${code}`}) ${err.trim()}`.trim());
      });
    });
  }
}
