// Logging in Redis's line format: "pid:role dd Mon yyyy hh:mm:ss.mmm * message",
// with a mark per level (debug '.', verbose '-', notice '*', warning '#'), to
// stdout or the configured logfile. As Redis does, the file is opened for
// each line, so a log rotated away is simply created again.

import { appendFileSync, closeSync, openSync } from 'node:fs';

/** glibc's strerror texts, which Redis's messages quote (libuv words its own differently). */
export const STRERROR: Record<string, string> = {
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EACCES: 'Permission denied',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EINVAL: 'Invalid argument',
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
};

/** strerror of a Node error (fs, net). */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return STRERROR[code] ?? (e as Error).message;
}

/** Why `logfile` cannot be opened for appending (Redis checks at start-up and refuses to start), or null. */
export function logFileProblem(file: string): string | null {
  if (!file) return null;
  try {
    closeSync(openSync(file, 'a'));
    return null;
  } catch (e) {
    return `Can't open the log file: ${strerror(e)}`;
  }
}

const LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'];
const MARKS = ['.', '-', '*', '#'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  constructor(
    public level: string,
    private readonly file: string,
  ) {}

  log(level: string, msg: string): void {
    const li = LEVELS.indexOf(level);
    if (li < LEVELS.indexOf(this.level)) return;
    const d = new Date();
    const p2 = (n: number) => String(n).padStart(2, '0');
    const ts = `${p2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    const line = `${process.pid}:M ${ts} ${MARKS[Math.min(li, 3)]} ${msg}\n`;
    if (this.file) {
      try {
        appendFileSync(this.file, line);
        return;
      } catch {
        // fall back to stdout when the log file cannot be written
      }
    }
    process.stdout.write(line);
  }
}
