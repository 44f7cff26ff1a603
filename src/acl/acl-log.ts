// The ACL log (ACL LOG): denied commands, keys and failed AUTHs, newest
// first, at most acllog-max-len entries. An event like one of the last ten
// entries (same reason, context, object and user, within a minute) bumps
// that entry's count and moves it to the front instead of adding another.

export type LogReason = 'command' | 'key' | 'channel' | 'auth';
export type LogContext = 'toplevel' | 'multi' | 'lua' | 'module';

export interface AclLogEntry {
  count: number;
  reason: LogReason;
  context: LogContext;
  /** The command's full name, the key, or for AUTH the command's name as sent. */
  object: string;
  username: string;
  /** CLIENT INFO of the last client that caused it. */
  clientInfo: string;
  entryId: number;
  createdAt: number;
  updatedAt: number;
}

const GROUPING_MS = 60_000;
const SCAN_FOR_MATCH = 10;

export class AclLog {
  /** Newest first. */
  entries: AclLogEntry[] = [];
  private nextId = 0;

  add(e: Omit<AclLogEntry, 'count' | 'entryId' | 'createdAt' | 'updatedAt'>, now: number, maxLen: number): void {
    const n = Math.min(SCAN_FOR_MATCH, this.entries.length);
    for (let i = 0; i < n; i++) {
      const cur = this.entries[i];
      if (cur.reason === e.reason && cur.context === e.context && Math.abs(cur.updatedAt - now) <= GROUPING_MS
        && cur.object === e.object && cur.username === e.username) {
        cur.count++;
        cur.updatedAt = now;
        cur.clientInfo = e.clientInfo;
        this.entries.splice(i, 1);
        this.entries.unshift(cur);
        return;
      }
    }
    this.entries.unshift({ ...e, count: 1, entryId: this.nextId++, createdAt: now, updatedAt: now });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  reset(): void {
    this.entries = [];
  }
}
