// Logging in Redis's line format: "pid:role dd Mon yyyy hh:mm:ss.mmm * message",
// to stdout or the configured logfile.

import { appendFileSync } from 'node:fs';

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
