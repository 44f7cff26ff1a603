// kvslab-server [config-file] [--name value ...]: the same command line as
// redis-server. Directives given as options are appended after the file's,
// so the command line wins.

import { Command } from 'commander';
import { writeFileSync, unlinkSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Config, ConfigFileError } from './config/config.js';
import { Server } from './server/server.js';
import { Logger } from './server/log.js';
import { startStatsSampler } from './server/info.js';
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
export function optionsToConfig(args: string[]): string {
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

function fatal(msg: string): never {
  console.error(msg);
  process.exit(1);
}

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

  const config = new Config();
  try {
    const extra = optionsToConfig(raw);
    if (file === '-') config.load(`${readFileSync(0, 'utf8')}\n${extra}`, 'stdin');
    else if (file) config.loadFile(resolve(file), extra);
    else config.load(extra, 'command line');
  } catch (e) {
    if (e instanceof ConfigFileError) fatal(e.report());
    fatal(`kvslab-server: ${(e as Error).message}`);
  }

  // Like Redis, the working directory becomes `dir`, and CONFIG GET dir shows it absolute.
  try {
    process.chdir(config.str('dir'));
  } catch (e) {
    fatal(`Can't chdir to '${config.str('dir')}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  config.setInternal('dir', process.cwd());

  const logger = new Logger(config.str('loglevel'), config.str('logfile'));
  logger.log('notice', `kvslab ${KVSLAB_VERSION} (Redis ${REDIS_VERSION} compatible), pid=${process.pid}, just started`);
  if (file) logger.log('notice', `Configuration loaded from ${file === '-' ? 'stdin' : resolve(file)}`);
  else logger.log('warning', 'No config file specified, using the default config.');
  const server = new Server(config, logger);
  try {
    await server.listen();
  } catch (e) {
    logger.log('warning', (e as Error).message);
    process.exit(1);
  }
  startStatsSampler(server);
  logger.log('notice', `Running mode=standalone, port=${server.port}.`);
  logger.log('notice', 'Ready to accept connections tcp');

  const pidfile = config.str('pidfile');
  if (pidfile) writeFileSync(pidfile, `${process.pid}\n`);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.log('warning', why === 'SHUTDOWN' ? 'User requested shutdown...' : `Received ${why} scheduling shutdown...`);
    const exit = () => {
      if (pidfile) {
        try { unlinkSync(pidfile); } catch { /* already gone */ }
      }
      logger.log('warning', 'kvslab is now ready to exit, bye bye...');
      process.exit(0);
    };
    void server.shutdown().then(exit);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  server.onShutdown = (why) => stop(why);
}

void main();
