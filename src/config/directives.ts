// The directive table: every config directive's name, type, default, whether
// CONFIG SET may change it at run time, and how its value is validated and
// shown. The file parser, the command line, CONFIG GET/SET/REWRITE and INFO
// all read this one table. Ranges, enum orders and error texts follow Redis
// 7.0, whose CONFIG SET errors clients and tests compare against.

export type ConfigValue = string | number | boolean;

export interface Directive {
  name: string;
  /** Other names accepted for the directive (e.g. replica/slave spellings). */
  alias?: string[];
  type: 'bool' | 'int' | 'float' | 'memory' | 'enum' | 'string' | 'special';
  default: ConfigValue;
  mutable: boolean;
  /** Refused by CONFIG SET unless enable-protected-configs allows it (Redis's protected configs). */
  protected?: boolean;
  min?: number;
  max?: number;
  values?: string[];
  /** Takes every argument of its line (save, bind, client-output-buffer-limit); CONFIG SET splits the value on spaces. */
  multiArg?: boolean;
  /** For 'special' and multi-argument directives: parses the arguments or throws an Error with the reason. */
  parse?: (args: string[], current: ConfigValue) => ConfigValue;
  /** A further rule on a value of the right type and range: the reason it is refused, or null. */
  check?: (v: ConfigValue) => string | null;
  /** Adjusts a valid value the way Redis stores it (hz is clamped to 1..500). */
  normalize?: (v: ConfigValue) => ConfigValue;
  /** How CONFIG GET renders the value. */
  format?: (v: ConfigValue) => string;
  /** Directives accepted for compatibility whose value kvslab does not use. */
  compatOnly?: boolean;
}

import { POLICY_NAMES } from '../store/store.js';

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

/** C limits as Redis prints them in range errors (the JS numbers round, the text must not). */
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
const LLONG_MAX = 2 ** 63;
const ULLONG_MAX = 2 ** 64;


/** `client-output-buffer-limit` per class: hard and soft limits in bytes, soft seconds. */
export interface OutputLimit { hard: number; soft: number; softSeconds: number }

const OBUF_CLASSES: Record<string, string> = { normal: 'normal', slave: 'slave', replica: 'slave', pubsub: 'pubsub' };

/**
 * Only the classes named change; the others keep their current limits, as in
 * Redis. The value is kept in CONFIG GET's form: "normal h s secs slave ... pubsub ...".
 */
function parseOutputLimits(args: string[], current: ConfigValue): string {
  if (args.length % 4 !== 0) throw new Error('Wrong number of arguments in buffer limit configuration.');
  const cur = String(current).split(' ');
  const out: Record<string, string> = {};
  for (let i = 0; i < cur.length; i += 4) out[cur[i]] = cur.slice(i + 1, i + 4).join(' ');
  const next: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 4) {
    const cls = OBUF_CLASSES[args[i].toLowerCase()];
    if (!cls) throw new Error('Invalid client class specified in buffer limit configuration.');
    const hard = parseMemory(args[i + 1]);
    const soft = parseMemory(args[i + 2]);
    const secs = /^-?\d+$/.test(args[i + 3]) ? Number(args[i + 3]) : -1;
    if (hard === null || soft === null || secs < 0) {
      throw new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    }
    next[cls] = `${formatNumber(hard)} ${formatNumber(soft)} ${secs}`;
  }
  Object.assign(out, next);
  return `normal ${out.normal} slave ${out.slave} pubsub ${out.pubsub}`;
}

/** `save <seconds> <changes> ...`: pairs of non-negative integers; no arguments or "" turns snapshots off. */
function parseSave(args: string[]): string {
  const a = args.length === 1 && args[0] === '' ? [] : args;
  if (a.length % 2 !== 0) throw new Error('Invalid save parameters');
  for (const x of a) if (!/^\d+$/.test(x)) throw new Error('Invalid save parameters');
  return a.map((x) => String(Number(x))).join(' ');
}

/** dbfilename is a file name in `dir`, not a path (Redis's isValidDBfilename). */
function checkDbFilename(v: ConfigValue): string | null {
  return String(v).includes('/') ? "dbfilename can't be a path, just a filename" : null;
}

/** `bind`: up to 16 addresses (Redis's CONFIG_BINDADDR_MAX); a single "" means none. */
function parseBind(args: string[]): string {
  if (args.length > 16) throw new Error('Too many bind addresses specified.');
  return args.join(' ');
}

/** An octal number (unixsocketperm 770), as Redis's octal configs read and show it. */
function parseOctal(args: string[], max: number): number {
  if (args.length !== 1) throw new Error('wrong number of arguments');
  if (!/^[0-7]+$/.test(args[0])) throw new Error("argument couldn't be parsed as an octal number");
  const n = Number.parseInt(args[0], 8);
  if (n > max) throw new Error(`argument must be between 0 and ${max.toString(8)} inclusive`);
  return n;
}

export const DIRECTIVES: Directive[] = [
  // Network
  { name: 'bind', type: 'string', default: '* -::*', mutable: true, multiArg: true, parse: parseBind },
  { name: 'port', type: 'int', default: 6379, mutable: true, min: 0, max: 65535 },
  { name: 'unixsocket', type: 'string', default: '', mutable: false },
  { name: 'unixsocketperm', type: 'special', default: 0, mutable: false, parse: (a) => parseOctal(a, 0o777), format: (v) => (v as number).toString(8) },
  { name: 'tcp-backlog', type: 'int', default: 511, mutable: false, min: 0, max: INT_MAX },
  { name: 'timeout', type: 'int', default: 0, mutable: true, min: 0, max: INT_MAX },
  { name: 'tcp-keepalive', type: 'int', default: 300, mutable: true, min: 0, max: INT_MAX },
  { name: 'protected-mode', type: 'bool', default: true, mutable: true },
  { name: 'maxclients', type: 'int', default: 10000, mutable: true, min: 1, max: UINT_MAX },
  // General
  { name: 'daemonize', type: 'bool', default: false, mutable: false },
  { name: 'supervised', type: 'enum', default: 'no', mutable: false, values: ['upstart', 'systemd', 'auto', 'no'] },
  { name: 'pidfile', type: 'string', default: '', mutable: false },
  { name: 'loglevel', type: 'enum', default: 'notice', mutable: true, values: ['debug', 'verbose', 'notice', 'warning'] },
  { name: 'logfile', type: 'string', default: '', mutable: false },
  // Items name their database's index in one byte.
  { name: 'databases', type: 'int', default: 16, mutable: false, min: 1, max: 256 },
  // Any int is accepted and stored clamped to 1..500, as Redis does.
  {
    name: 'hz', type: 'int', default: 10, mutable: true, min: 0, max: INT_MAX,
    normalize: (v) => Math.min(500, Math.max(1, v as number)),
  },
  { name: 'dir', type: 'string', default: '.', mutable: true, protected: true },
  // DEBUG is a protected command: "local" allows it from loopback connections only.
  { name: 'enable-debug-command', type: 'enum', default: 'local', mutable: false, values: ['no', 'yes', 'local'] },
  { name: 'enable-protected-configs', type: 'enum', default: 'no', mutable: false, values: ['no', 'yes', 'local'] },
  // Persistence: RDB snapshots (src/persistence). Redis 7.0's defaults: with no config file the
  // same save rules as Redis. AOF is not part of kvslab: appendonly is accepted so stock configs load.
  { name: 'save', type: 'string', default: '3600 1 300 100 60 10000', mutable: true, multiArg: true, parse: parseSave },
  { name: 'dbfilename', type: 'string', default: 'dump.rdb', mutable: true, protected: true, check: checkDbFilename },
  { name: 'rdbcompression', type: 'bool', default: true, mutable: true },
  { name: 'rdbchecksum', type: 'bool', default: true, mutable: false },
  { name: 'stop-writes-on-bgsave-error', type: 'bool', default: true, mutable: true },
  { name: 'rdb-del-sync-files', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'rdb-save-incremental-fsync', type: 'bool', default: true, mutable: true, compatOnly: true },
  { name: 'sanitize-dump-payload', type: 'enum', default: 'no', mutable: true, values: ['no', 'yes', 'clients'], compatOnly: true },
  // kvslab's own: dumps without the tensors (stock Redis refuses module data it has no module for),
  // and loading a Redis dump whose lists, sets, hashes... kvslab has no type for.
  { name: 'rdb-save-tensors', type: 'bool', default: true, mutable: true },
  { name: 'rdb-load-skip-unknown-types', type: 'bool', default: false, mutable: true },
  { name: 'appendonly', type: 'bool', default: false, mutable: true, compatOnly: true },
  // Security
  { name: 'requirepass', type: 'string', default: '', mutable: true },
  // ACL users come from `user` lines (read by config.ts, not a directive of this table) or from this file.
  { name: 'aclfile', type: 'string', default: '', mutable: false },
  { name: 'acllog-max-len', type: 'int', default: 128, mutable: true, min: 0, max: LLONG_MAX },
  // TLS (node:tls): a listener on tls-port for every bind address; the files are read again when changed.
  { name: 'tls-port', type: 'int', default: 0, mutable: true, min: 0, max: 65535 },
  { name: 'tls-cert-file', type: 'string', default: '', mutable: true },
  { name: 'tls-key-file', type: 'string', default: '', mutable: true },
  { name: 'tls-key-file-pass', type: 'string', default: '', mutable: true },
  { name: 'tls-ca-cert-file', type: 'string', default: '', mutable: true },
  { name: 'tls-ca-cert-dir', type: 'string', default: '', mutable: true },
  { name: 'tls-dh-params-file', type: 'string', default: '', mutable: true },
  { name: 'tls-auth-clients', type: 'enum', default: 'yes', mutable: true, values: ['no', 'yes', 'optional'] },
  { name: 'tls-protocols', type: 'string', default: '', mutable: true },
  { name: 'tls-ciphers', type: 'string', default: '', mutable: true },
  { name: 'tls-ciphersuites', type: 'string', default: '', mutable: true },
  { name: 'tls-prefer-server-ciphers', type: 'bool', default: false, mutable: true },
  { name: 'tls-session-caching', type: 'bool', default: true, mutable: true },
  { name: 'tls-session-cache-size', type: 'int', default: 20480, mutable: true, min: 0, max: INT_MAX, compatOnly: true },
  { name: 'tls-session-cache-timeout', type: 'int', default: 300, mutable: true, min: 0, max: INT_MAX },
  // Memory
  { name: 'maxmemory', type: 'memory', default: 0, mutable: true, min: 0, max: ULLONG_MAX },
  { name: 'maxmemory-policy', type: 'enum', default: 'noeviction', mutable: true, values: POLICY_NAMES },
  { name: 'maxmemory-samples', type: 'int', default: 5, mutable: true, min: 1, max: INT_MAX },
  { name: 'maxmemory-eviction-tenacity', type: 'int', default: 10, mutable: true, min: 0, max: 100 },
  // kvslab's own: a tensor picked for eviction gives back the tail of its sequence first (src/tensor/trim.ts).
  { name: 'kv-tail-trim', type: 'bool', default: false, mutable: true },
  { name: 'lfu-log-factor', type: 'int', default: 10, mutable: true, min: 0, max: INT_MAX },
  { name: 'lfu-decay-time', type: 'int', default: 1, mutable: true, min: 0, max: INT_MAX },
  { name: 'active-expire-effort', type: 'int', default: 1, mutable: true, min: 1, max: 10 },
  // The slab allocator (kvslab's own): page size, and the ratio between neighbouring chunk sizes (memcached's -f).
  {
    name: 'slab-page-size', type: 'memory', default: 1 * MB, mutable: false, min: 64 * KB, max: 64 * MB,
    check: (v) => (Number.isInteger(Math.log2(v as number)) ? null : 'argument must be a power of two'),
  },
  { name: 'slab-growth-factor', type: 'float', default: 1.25, mutable: false, min: 1.01, max: 4 },
  { name: 'lazyfree-lazy-eviction', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-expire', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-server-del', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-user-del', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-user-flush', type: 'bool', default: false, mutable: true, compatOnly: true },
  // Limits
  { name: 'proto-max-bulk-len', type: 'memory', default: 512 * MB, mutable: true, min: 1 * MB, max: LLONG_MAX },
  { name: 'client-query-buffer-limit', type: 'memory', default: 1 * GB, mutable: true, min: 1 * MB, max: LLONG_MAX },
  {
    name: 'client-output-buffer-limit', type: 'special', mutable: true, multiArg: true,
    default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    parse: parseOutputLimits,
  },
  // Slow log and latency monitor (Redis's), in microseconds and milliseconds.
  { name: 'slowlog-log-slower-than', type: 'int', default: 10000, mutable: true, min: -1, max: LLONG_MAX },
  { name: 'slowlog-max-len', type: 'int', default: 128, mutable: true, min: 0, max: LLONG_MAX },
  { name: 'latency-monitor-threshold', type: 'int', default: 0, mutable: true, min: 0, max: LLONG_MAX },
  // Cluster mode (src/cluster): startup only; emulated is a one-node cluster owning every slot. The config
  // file (relative to dir) keeps the node id, the epoch and the last topology pushed (KVCLUSTER CONFIG).
  { name: 'cluster-enabled', type: 'enum', default: 'no', mutable: false, values: ['no', 'yes', 'emulated'] },
  { name: 'cluster-config-file', type: 'string', default: 'nodes.conf', mutable: false },
  { name: 'cluster-announce-ip', type: 'string', default: '', mutable: true },
  { name: 'cluster-announce-port', type: 'int', default: 0, mutable: true, min: 0, max: 65535 },
  { name: 'cluster-announce-tls-port', type: 'int', default: 0, mutable: true, min: 0, max: 65535 },
  { name: 'cluster-require-full-coverage', type: 'bool', default: true, mutable: true },
  // kvslab's HTTP listener for Prometheus (/metrics) and the status page (/); port 0 turns it off.
  { name: 'metrics-port', type: 'int', default: 0, mutable: false, min: 0, max: 65535 },
  { name: 'metrics-bind', type: 'string', default: '127.0.0.1', mutable: false },
];

const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1000, kb: KB, m: 1000 * 1000, mb: MB, g: 1000 * 1000 * 1000, gb: GB };

/**
 * Parses a Redis memory value: digits and an optional unit, case-insensitive
 * (1k = 1000, 1kb = 1024, m/mb, g/gb, b). No sign; leading zeros are fine and
 * an empty string is 0, as Redis's memtoull has it. Null if malformed.
 */
export function parseMemory(s: string): number | null {
  const m = /^(\d*)([a-z]*)$/i.exec(s);
  if (!m) return null;
  const mul = MEMORY_UNITS[m[2].toLowerCase()];
  if (mul === undefined) return null;
  // strtoull saturates on overflow.
  const n = m[1] === '' ? 0n : BigInt(m[1]);
  const v = n * BigInt(mul);
  return v >= 18446744073709551615n ? ULLONG_MAX : Number(v);
}

/** Redis's string2ll grammar on a string: no sign but '-', no leading zeros or spaces, within int64. */
export function parseStrictInt(s: string): number | null {
  if (!/^(0|-?[1-9]\d{0,18})$/.test(s)) return null;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return Number(v);
}

/** An integer as C prints it: exact digits even past 2^53, C limits for the rounded maxima. */
export function formatNumber(n: number): string {
  if (n >= ULLONG_MAX) return '18446744073709551615';
  if (n === LLONG_MAX) return '9223372036854775807';
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

export function findDirective(name: string): Directive | undefined {
  const n = name.toLowerCase();
  return DIRECTIVES.find((d) => d.name === n || d.alias?.includes(n));
}

/**
 * Validates and converts the arguments of a directive. Throws an Error whose
 * message is the reason Redis would give.
 */
export function parseDirectiveValue(d: Directive, args: string[], current: ConfigValue = d.default): ConfigValue {
  const v = parseRaw(d, args, current);
  return d.normalize ? d.normalize(v) : v;
}

function parseRaw(d: Directive, args: string[], current: ConfigValue): ConfigValue {
  const v = parseTyped(d, args, current);
  const why = d.check?.(v);
  if (why) throw new Error(why);
  return v;
}

function parseTyped(d: Directive, args: string[], current: ConfigValue): ConfigValue {
  if (d.parse) return d.parse(args, current);
  if (args.length !== 1) throw new Error('wrong number of arguments');
  const v = args[0];
  switch (d.type) {
    case 'bool': {
      const l = v.toLowerCase();
      if (l === 'yes') return true;
      if (l === 'no') return false;
      throw new Error('argument must be \'yes\' or \'no\'');
    }
    case 'int': {
      const n = parseStrictInt(v);
      if (n === null) throw new Error('argument couldn\'t be parsed into an integer');
      return checkRange(d, n);
    }
    case 'float': {
      const n = /^[0-9]*\.?[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw new Error('argument couldn\'t be parsed into a number');
      return checkRange(d, n);
    }
    case 'memory': {
      const n = parseMemory(v);
      if (n === null) throw new Error('argument must be a memory value');
      return checkRange(d, n);
    }
    case 'enum': {
      const l = v.toLowerCase();
      if (!d.values?.includes(l)) throw new Error(`argument(s) must be one of the following: ${d.values?.join(', ')}`);
      return l;
    }
    default:
      return v;
  }
}

function checkRange(d: Directive, n: number): number {
  const min = d.min ?? -LLONG_MAX;
  const max = d.max ?? LLONG_MAX;
  if (n < min || n > max) throw new Error(`argument must be between ${formatNumber(min)} and ${formatNumber(max)} inclusive`);
  return n;
}

/** Renders a value as CONFIG GET shows it. */
export function formatDirectiveValue(d: Directive, v: ConfigValue): string {
  if (d.format) return d.format(v);
  if (d.type === 'bool') return v ? 'yes' : 'no';
  if (d.type === 'float') return String(v);
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

/** A memory value as CONFIG REWRITE writes it: the largest binary unit that divides it (1gb, 100mb, 4kb). */
export function formatMemoryForFile(n: number): string {
  if (n === 0 || !Number.isSafeInteger(n)) return formatNumber(n);
  if (n % GB === 0) return `${n / GB}gb`;
  if (n % MB === 0) return `${n / MB}mb`;
  if (n % KB === 0) return `${n / KB}kb`;
  return String(n);
}
