// The directive table: every config directive's name, type, default, whether
// CONFIG SET may change it at run time, and how its value is validated and
// shown. The file parser, the command line, CONFIG GET/SET/REWRITE and INFO
// all read this one table.

export type ConfigValue = string | number | boolean;

export interface Directive {
  name: string;
  /** Other names accepted for the directive (e.g. replica/slave spellings). */
  alias?: string[];
  type: 'bool' | 'int' | 'memory' | 'enum' | 'string' | 'special';
  default: ConfigValue;
  mutable: boolean;
  min?: number;
  max?: number;
  values?: string[];
  /** For 'special': parses the arguments into a value or throws an Error with the reason. */
  parse?: (args: string[]) => ConfigValue;
  /** How CONFIG GET and REWRITE render the value. */
  format?: (v: ConfigValue) => string;
  /** Directives accepted for compatibility whose value kvslab does not use. */
  compatOnly?: boolean;
}

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

export const EVICTION_POLICIES = [
  'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl',
  'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction',
];

/** `client-output-buffer-limit` per class: hard and soft limits in bytes, soft seconds. */
export interface OutputLimit { hard: number; soft: number; softSeconds: number }

function parseOutputLimits(args: string[]): string {
  if (args.length % 4 !== 0 || args.length === 0) throw new Error('Wrong number of arguments in buffer limit configuration.');
  const out: Record<string, string> = { normal: '0 0 0', replica: '268435456 67108864 60', pubsub: '33554432 8388608 60' };
  for (let i = 0; i < args.length; i += 4) {
    let cls = args[i].toLowerCase();
    if (cls === 'slave') cls = 'replica';
    if (!(cls in out)) throw new Error('Invalid client class specified in buffer limit configuration.');
    const hard = parseMemory(args[i + 1]);
    const soft = parseMemory(args[i + 2]);
    const secs = Number(args[i + 3]);
    if (hard === null || soft === null || !Number.isInteger(secs) || secs < 0) {
      throw new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    }
    out[cls] = `${hard} ${soft} ${secs}`;
  }
  return `normal ${out.normal} slave ${out.replica} pubsub ${out.pubsub}`;
}

export const DIRECTIVES: Directive[] = [
  // Network
  { name: 'bind', type: 'string', default: '* -::*', mutable: true },
  { name: 'port', type: 'int', default: 6379, mutable: true, min: 0, max: 65535 },
  { name: 'tcp-backlog', type: 'int', default: 511, mutable: false, min: 0, max: 65535 },
  { name: 'timeout', type: 'int', default: 0, mutable: true, min: 0, max: 2147483647 },
  { name: 'tcp-keepalive', type: 'int', default: 300, mutable: true, min: 0, max: 2147483647 },
  { name: 'protected-mode', type: 'bool', default: true, mutable: true, compatOnly: true },
  { name: 'maxclients', type: 'int', default: 10000, mutable: true, min: 1, max: 2147483647 },
  // General
  { name: 'daemonize', type: 'bool', default: false, mutable: false, compatOnly: true },
  { name: 'supervised', type: 'enum', default: 'no', mutable: false, values: ['no', 'upstart', 'systemd', 'auto'] },
  { name: 'pidfile', type: 'string', default: '', mutable: false },
  { name: 'loglevel', type: 'enum', default: 'notice', mutable: true, values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] },
  { name: 'logfile', type: 'string', default: '', mutable: false },
  { name: 'databases', type: 'int', default: 16, mutable: false, min: 1, max: 2147483647 },
  // Like Redis, hz accepts any int and is clamped to 1..500 where it is used.
  { name: 'hz', type: 'int', default: 10, mutable: true, min: 0, max: 2147483647 },
  { name: 'dir', type: 'string', default: '.', mutable: true },
  // Persistence is not part of kvslab: accepted so stock configs load.
  { name: 'save', type: 'string', default: '', mutable: true, compatOnly: true },
  { name: 'appendonly', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'dbfilename', type: 'string', default: 'dump.rdb', mutable: true, compatOnly: true },
  // Security
  { name: 'requirepass', type: 'string', default: '', mutable: true },
  // Memory
  { name: 'maxmemory', type: 'memory', default: 0, mutable: true, min: 0 },
  { name: 'maxmemory-policy', type: 'enum', default: 'noeviction', mutable: true, values: EVICTION_POLICIES },
  { name: 'maxmemory-samples', type: 'int', default: 5, mutable: true, min: 1, max: 64 },
  { name: 'maxmemory-eviction-tenacity', type: 'int', default: 10, mutable: true, min: 0, max: 100 },
  { name: 'lfu-log-factor', type: 'int', default: 10, mutable: true, min: 0, max: 2147483647 },
  { name: 'lfu-decay-time', type: 'int', default: 1, mutable: true, min: 0, max: 2147483647 },
  { name: 'active-expire-effort', type: 'int', default: 1, mutable: true, min: 1, max: 10 },
  { name: 'lazyfree-lazy-eviction', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-expire', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-server-del', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-user-del', type: 'bool', default: false, mutable: true, compatOnly: true },
  { name: 'lazyfree-lazy-user-flush', type: 'bool', default: false, mutable: true, compatOnly: true },
  // Limits
  { name: 'proto-max-bulk-len', type: 'memory', default: 512 * MB, mutable: true, min: 1 * MB },
  { name: 'client-query-buffer-limit', type: 'memory', default: 1 * GB, mutable: true, min: 1 * MB, max: 1024 * GB },
  {
    name: 'client-output-buffer-limit', type: 'special', mutable: true,
    default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60',
    parse: parseOutputLimits,
  },
];

/** Parses a Redis memory value: 100, 1k (1000), 1kb (1024), 1m, 1mb, 1g, 1gb. Null if malformed. */
export function parseMemory(s: string): number | null {
  const m = /^(-?\d+)(k|kb|m|mb|g|gb|b)?$/i.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const mul: Record<string, number> = { '': 1, b: 1, k: 1000, kb: KB, m: 1000 * 1000, mb: MB, g: 1000 * 1000 * 1000, gb: GB };
  return n * mul[unit];
}

export function findDirective(name: string): Directive | undefined {
  const n = name.toLowerCase();
  return DIRECTIVES.find((d) => d.name === n || d.alias?.includes(n));
}

/**
 * Validates and converts the arguments of a directive. Throws an Error whose
 * message is the reason Redis would give.
 */
export function parseDirectiveValue(d: Directive, args: string[]): ConfigValue {
  if (d.type === 'special') return (d.parse as (a: string[]) => ConfigValue)(args);
  if (d.name === 'save' || d.name === 'bind') return args.join(' ');
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
      if (!/^-?\d+$/.test(v)) throw new Error('argument couldn\'t be parsed into an integer');
      return checkRange(d, Number(v));
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
  const min = d.min ?? -Infinity;
  const max = d.max ?? Infinity;
  if (n < min || n > max) throw new Error(`argument must be between ${min} and ${max} inclusive`);
  return n;
}

/** Renders a value as CONFIG GET shows it. */
export function formatDirectiveValue(d: Directive, v: ConfigValue): string {
  if (d.format) return d.format(v);
  if (d.type === 'bool') return v ? 'yes' : 'no';
  return String(v);
}
