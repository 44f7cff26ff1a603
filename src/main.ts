// kvslab-server [config-file] [--name value ...]: the same command line as
// redis-server. Directives given as options are appended after the file's,
// so the command line wins. The command table is built here, once: the
// config reader checks `user` lines against it, the ACL is built from it, and
// the server dispatches with it.

import { Command } from 'commander';
import { writeFileSync, unlinkSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Config, ConfigFileError } from './config/configuration.js';
import { buildCommandTable } from './commands/families.js';
import { AclCommandIndex } from './acl/command-index.js';
import { checkUserLine, setupAcl } from './acl/startup.js';
import { Server } from './server/server.js';
import { Logger, logFileProblem, strerror } from './server/logger.js';
import { DaemonChild, runInBackground } from './server/daemon.js';
import { Supervisor, detectSupervision } from './server/sd-notify.js';
import type { MetricsListener } from './server/metrics.js';
import { KVSLAB_VERSION, REDIS_VERSION } from './version.js';

/** Quotes one command-line value for a config line (the file parser's escapes). */
function quoteArg(a: string): string {
  if (a !== '' && /^[\x21-\x7e]+$/.test(a) && !/["'\\]/.test(a)) return a;
  const body = a.replace(/[\\"\x00-\x1f\x7f]/g, (ch) => {
    if (ch === '\\' || ch === '"') return `\\${ch}`;
    if (ch === '\n') return '\\n';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `"${body}"`;
}

/** Turns ["--port", "7000", "--save", "", ""] into config lines. */
function optionsToConfig(args: string[]): string {
  const lines: string[] = [];
  let cur: string[] | null = null;
  for (const a of args) {
    if (a.startsWith('--') && a.length > 2) {
      if (cur) lines.push(cur.join(' '));
      cur = [a.slice(2)];
    } else if (cur) {
      cur.push(quoteArg(a));
    } else {
      throw new Error(`unexpected argument '${a}' (options are --name value)`);
    }
  }
  if (cur) lines.push(cur.join(' '));
  return lines.join('\n');
}

/** Set in the background child of `daemonize yes`: start-up failures are reported to the waiting parent. */
const daemonChild = DaemonChild.fromEnv();

function fatal(msg: string): never {
  console.error(msg);
  daemonChild?.failed(msg.trim());
  process.exit(1);
}

/** Replies due are sent for this long after SHUTDOWN or a signal, then connections are cut... */
const SHUTDOWN_GRACE_MS = 500;
/** ... and the process is gone within a second whatever else is slow. */
const SHUTDOWN_DEADLINE_MS = 900;
/** Where `daemonize yes` writes its pid when `pidfile` is not set (Redis's /var/run/redis.pid). */
const DEFAULT_PIDFILE = '/var/run/kvslab.pid';

async function main(): Promise<void> {
  const program = new Command('kvslab-server')
    .description('A Redis-compatible cache daemon with a slab-allocated keyspace.')
    .version(`kvslab-server v=${KVSLAB_VERSION} redis-compat=${REDIS_VERSION} node=${process.version}`, '-v, --version')
    .argument('[config-file]', 'redis.conf-style config file ("-" reads standard input)')
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption('-h, --help')
    .addHelpText('after', `
Every config directive can be given as --name value; the command line wins over the file.
The directives and their meaning are listed in conf/kvslab.conf.

Examples:
  kvslab-server conf/kvslab.conf
  kvslab-server --port 7000 --maxmemory 100mb
  kvslab-server conf/kvslab.conf --loglevel verbose --port 0`);
  program.parse(process.argv);

  const raw = process.argv.slice(2);
  let file = '';
  if (raw.length > 0 && (!raw[0].startsWith('--') || raw[0] === '-')) file = raw.shift() as string;

  const commands = buildCommandTable();
  const aclIndex = new AclCommandIndex(commands);
  const config = new Config((line, earlier) => checkUserLine(aclIndex, line, earlier));
  const startDir = process.cwd();
  let stdinText: string | null = null;
  try {
    const extra = optionsToConfig(raw);
    if (file === '-') stdinText = readFileSync(0, 'utf8');
    if (stdinText !== null) config.load(`${stdinText}\n${extra}`, 'stdin');
    else if (file) config.loadFile(resolve(file), extra);
    else config.load(extra, 'command line');
  } catch (e) {
    if (e instanceof ConfigFileError) fatal(e.report());
    fatal(`kvslab-server: ${(e as Error).message}`);
  }
  // With every line read: the ACL users of `user` lines or of the aclfile (a bad one stops start-up).
  const acl = setupAcl(aclIndex, config);
  if ('error' in acl) fatal(new ConfigFileError('', 0, '', acl.error).report());

  // Like Redis, the working directory becomes `dir`, and CONFIG GET dir shows it absolute.
  try {
    process.chdir(config.str('dir'));
  } catch (e) {
    fatal(`Can't chdir to '${config.str('dir')}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  config.setInternal('dir', process.cwd());
  const logProblem = logFileProblem(config.str('logfile'));
  if (logProblem) fatal(`\n*** FATAL CONFIG FILE ERROR (kvslab) ***\n${logProblem}`);

  // Under a supervisor kvslab stays in the foreground, as Redis does.
  if (config.bool('daemonize') && !daemonChild && detectSupervision(config.str('supervised'), process.env).mode === 'no') {
    runInBackground(stdinText, startDir);
    return;
  }

  const logger = new Logger(config.str('loglevel'), config.str('logfile'));
  logger.log('notice', `kvslab ${KVSLAB_VERSION} (Redis ${REDIS_VERSION} compatible), pid=${process.pid}, just started`);
  if (file) logger.log('notice', `Configuration loaded from ${file === '-' ? 'stdin' : config.file}`);
  else logger.log('warning', 'No config file specified, using the default config.');
  const supervisor = Supervisor.resolve(config.str('supervised'), logger);
  /** A failed start: logged, and told to the parent of a background start (with its cause). */
  const failStart = (e: unknown): never => {
    const err = e as Error;
    logger.log('warning', err.message);
    daemonChild?.failed([err.cause instanceof Error ? err.cause.message : '', err.message].filter(Boolean).join('\n'));
    process.exit(1);
  };
  // An unreadable cluster-config-file stops the start, as in Redis.
  const server = ((): Server => {
    try {
      return new Server(config, commands, acl, logger);
    } catch (e) {
      return failStart(e);
    }
  })();
  let metrics: MetricsListener | null = null;
  const pidfile = config.str('pidfile') || (daemonChild ? DEFAULT_PIDFILE : '');
  const removePidfile = () => {
    if (!pidfile) return;
    logger.log('notice', 'Removing the pid file.');
    try { unlinkSync(pidfile); } catch { /* already gone */ }
  };

  let stopping = false;
  /** The last step of a shutdown, once the final save is done (Server.shutdown): replies go out, then exit. */
  const stop = () => {
    stopping = true;
    const exit = () => {
      removePidfile();
      logger.log('warning', 'kvslab is now ready to exit, bye bye...');
      process.exit(0);
    };
    const done = Promise.all([supervisor.stopping(), server.stop(SHUTDOWN_GRACE_MS), metrics?.close()]);
    void Promise.race([done, new Promise((r) => { setTimeout(r, SHUTDOWN_DEADLINE_MS); })]).then(exit);
  };
  const onSignal = (sig: string) => {
    if (stopping) {
      // A second signal does not wait for anything (Redis's "You insist").
      logger.log('warning', 'You insist... exiting now.');
      removePidfile();
      process.exit(1);
    }
    logger.log('warning', `Received ${sig} scheduling shutdown...`);
    // As Redis: when the final save fails, the server goes on running.
    if (!server.shutdown(sig, 'rules', false)) {
      logger.log('warning', `${sig} received but errors trying to shut down the server, check the logs for more information`);
    }
  };
  // From before listening on: a signal that comes as soon as kvslab says it is ready must find these.
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // A terminal that goes away does not stop the server (Redis ignores SIGHUP too).
  process.on('SIGHUP', () => {});
  server.onShutdown = () => { if (!stopping) stop(); };

  try {
    await server.listen();
  } catch (e) {
    failStart(e);
  }
  // The dump loads a slice at a time with the listeners open, as Redis's: meanwhile commands that need data get
  // -LOADING, so no client sees a half-loaded keyspace; a bad dump stops the server. Ready only after it.
  try {
    await server.persistence.loadAtStart();
  } catch (e) {
    failStart(new Error(`Fatal error loading the DB from ${server.persistence.path}: ${(e as Error).message}. Exiting.`));
  }
  try {
    // Loaded only when wanted: prom-client stays off the heap of a server without metrics-port.
    if (config.int('metrics-port') !== 0) metrics = await (await import('./server/metrics.js')).startMetrics(server);
  } catch (e) {
    failStart(e);
  }
  // Stopped while starting: nothing more to announce.
  if (stopping) return;
  // Written once kvslab listens, before it says so, so that it names a running server (Redis's createPidFile).
  if (pidfile) {
    config.setInternal('pidfile', pidfile);
    try {
      writeFileSync(pidfile, `${process.pid}\n`);
    } catch (e) {
      logger.log('warning', `Failed to write PID file: ${strerror(e)}`);
    }
  }
  logger.log('notice', `Running mode=${server.cluster !== null ? 'cluster' : 'standalone'}, port=${server.port}.`);
  if (server.cluster !== null) logger.log('notice', `Cluster node id ${server.cluster.myId} (${server.cluster.mode === 'emulated' ? 'emulated, every slot' : `epoch ${server.cluster.currentEpoch}, ${server.cluster.topology.assigned} slots assigned`})`);
  const unixsocket = config.str('unixsocket');
  if (unixsocket) logger.log('notice', `The server is now ready to accept connections at ${unixsocket}`);
  for (const kind of server.listeners.kinds) logger.log('notice', `Ready to accept connections ${kind}`);
  supervisor.ready('Ready to accept connections');
  daemonChild?.ready();
}

void main();
