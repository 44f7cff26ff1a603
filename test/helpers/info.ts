// INFO as a map of fields, for tests that read the server's figures.

import type { Redis } from 'ioredis';

/** INFO text as field -> value. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** The fields of the given INFO sections. */
export async function info(r: Redis, ...sections: string[]): Promise<Map<string, string>> {
  return parseInfo(await r.call('INFO', ...sections) as string);
}

/** CLIENT LIST text as one field map per line. */
export function parseClientList(text: string): Map<string, string>[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const m = new Map<string, string>();
    for (const kv of line.split(' ')) {
      const i = kv.indexOf('=');
      m.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return m;
  });
}
