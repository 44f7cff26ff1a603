// DEBUG: the few debugging helpers kvslab has (SLEEP, SET-ACTIVE-EXPIRE,
// LOG, OBJECT, DIGEST, DIGEST-VALUE, RELOAD), behind enable-debug-command as
// in Redis. The digests are persistence/digest.ts's, the reload
// Persistence.reload's.

import type { CommandContext, Handler } from './context.js';
import { argIs, subcommandSyntaxError } from './args.js';
import { allowProtected } from './config.js';
import { replyHelp } from './help.js';
import { encoding, refcount } from './object.js';
import { datasetDigest, valueDigest } from '../persistence/digest.js';
import type { CommandDef } from './model/command-table.js';
import { CMD_ADMIN, CMD_LOADING, CMD_NOSCRIPT, CMD_STALE } from './model/flags.js';

/** Redis reads DEBUG SLEEP's argument with strtod: garbage is 0. */
function strtod(s: string): number {
  const v = Number.parseFloat(s.trim());
  return Number.isFinite(v) ? v : 0;
}

/** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE], with Redis 7.0's replies. */
function reload(c: CommandContext, argv: Buffer[]): void {
  const opts = { save: true, flush: true, merge: false };
  for (const opt of argv.slice(2)) {
    if (argIs(opt, 'merge')) opts.merge = true;
    else if (argIs(opt, 'noflush')) opts.flush = false;
    else if (argIs(opt, 'nosave')) opts.save = false;
    else return c.addError('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  }
  const result = c.server.persistence.reload(opts);
  // A failed save is a bare -ERR in Redis 7.0 (as SAVE's); the log says why either way.
  if (result === 'save-failed') return c.addError('ERR');
  if (result === 'load-failed') return c.addError('ERR Error trying to load the RDB dump');
  c.addOk();
}

/** Blocks the whole server, as Redis's DEBUG SLEEP does. */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debug(c: CommandContext, argv: Buffer[]): void {
  if (!allowProtected(c, 'enable-debug-command')) {
    return c.addError('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.');
  }
  const sub = argv[1];
  const n = argv.length;
  if (argIs(sub, 'help') && n === 2) {
    return replyHelp(c, 'DEBUG', [
      'OBJECT <key>',
      '    Low-level facts about the value stored at <key>.',
      'SET-ACTIVE-EXPIRE <0|1>',
      '    Turn the background expiry of keys off (0) or on (1); keys still expire when accessed.',
      'SLEEP <seconds>',
      '    Stop the whole server for <seconds> (fractions allowed).',
      'LOG <message>',
      '    Write <message> to the server log.',
      'DIGEST',
      '    A hex signature of the whole dataset (Redis\'s SHA1 digest; 40 zeros when empty).',
      'DIGEST-VALUE <key> [<key> ...]',
      '    A hex signature of the value of each <key> (40 zeros for a missing key).',
      'RELOAD [MERGE] [NOFLUSH] [NOSAVE]',
      '    Save the dump, empty every database and load the dump back. Options:',
      '    * MERGE: a key of the dump replaces the one in memory.',
      '    * NOFLUSH: keep the dataset; a key in both fails the load unless MERGE.',
      '    * NOSAVE: load the dump file as it is, without saving first.',
    ]);
  }
  if (argIs(sub, 'digest') && n === 2) return c.addStatus(datasetDigest(c.server.store));
  if (argIs(sub, 'digest-value')) {
    c.addArrayLen(n - 2);
    for (let i = 2; i < n; i++) c.addStatus(valueDigest(c.db, argv[i]));
    return;
  }
  if (argIs(sub, 'reload')) return reload(c, argv);
  if (argIs(sub, 'sleep') && n === 3) {
    sleepSync(strtod(argv[2].toString('latin1')) * 1000);
    return c.addOk();
  }
  if (argIs(sub, 'set-active-expire') && n === 3) {
    c.server.expireCycle.enabled = (Number.parseInt(argv[2].toString('latin1').trim(), 10) || 0) !== 0;
    return c.addOk();
  }
  if (argIs(sub, 'log') && n === 3) {
    c.server.log('warning', `DEBUG LOG: ${argv[2].toString()}`);
    return c.addOk();
  }
  if (argIs(sub, 'object') && n === 3) {
    const h = c.db.find(argv[2]);
    if (h < 0) return c.addError('ERR no such key');
    const value = c.db.value(h);
    const idleMs = c.db.idleMs(h);
    const idle = Math.floor(idleMs / 1000);
    const lru = Math.floor((c.db.now() - idleMs) / 1000) & 0xffffff;
    return c.addStatus(
      `Value at:0x${(h + 0x1000).toString(16)} refcount:${refcount(c, h)} encoding:${encoding(c, h)} `
      + `serializedlength:${value.length + 1} lru:${lru} lru_seconds_idle:${idle}`,
    );
  }
  subcommandSyntaxError(c, argv);
}

/** The flags of the server's administrative commands. */
const ADMIN = CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE;

export const debugCommands: CommandDef<Handler>[] = [
  {
    name: 'debug', arity: -2, flags: ADMIN, handler: debug,
    docs: { summary: 'Debugging helpers (sleep, active expiry switch, object details, digests, reload).', since: '1.0.0', group: 'server', complexity: 'Depends on subcommand.' },
  },
];
