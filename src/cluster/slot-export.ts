// Moving slots with their keys to another node while clients go on (the
// source's side; KVCLUSTER MIGRATESLOTS starts it). Valkey 9's atomic slot
// migration is the model: the target gets the whole slots first and owns
// them only when the manager pushes the topology that says so, so a client
// sees one MOVED per slot and never an ASK window.
//
//   walking      a slice at a time between the event loop's turns (as a
//                BGSAVE's walk), every key of the moving slots goes to the
//                target as RESTORE key <abs ms> <DUMP payload> REPLACE ABSTTL
//                over a stream the target reads as an import (no slot check
//                there). Writes go on here; each key they change is noted.
//   catching-up  the noted keys are sent again as they are now (or DEL when
//                gone), round after round, while writes go on.
//   final        once a round is small, writes to the moving slots get
//                -TRYAGAIN (clients retry; reads go on), the last noted keys
//                go, and every reply of the target is waited for.
//   ready        the target holds exactly what this node holds for those
//                slots: the manager pushes the topology that gives them to
//                the target (target first). Installing it here ends the
//                export: the moved keys are deleted a slice at a time.
//
// A failure (the target's error or silence, FLUSHALL, CANCELSLOTMIGRATIONS)
// before ready ends the export and commands run again: this node still owns
// the slots, and the manager deletes what the target got (KVCLUSTER
// DELKEYSINSLOTSRANGE there). Once ready the export does not give up by
// itself: the topology may already give the slots to the target, and
// serving them here again would let both nodes take writes for them. They
// stay paused until a topology moves them or CANCELSLOTMIGRATIONS (the
// manager's rollback, or its fix when it stopped half-way) says they stay.

import type { Db } from '../store/db.js';
import { DumpWriter } from '../persistence/dump-payload.js';
import { SLOTS, keyHashSlot } from './keyslot.js';
import { SlotWalk } from './slot-walk.js';
import { PeerStream, SENT_AS_IS } from './peer-stream.js';

export type ExportState = 'walking' | 'catching-up' | 'final' | 'ready' | 'done' | 'failed';

export interface ExportOptions {
  host: string;
  port: number;
  /** Inclusive slot ranges to move. */
  ranges: [number, number][];
  /** AUTH (password) or AUTH2 (user and password) for the target. */
  user?: Buffer;
  password?: Buffer;
  compression: boolean;
  /** The target's silence that fails the export. */
  timeoutMs: number;
}

/**
 * The migration's share of wall time while the node serves commands: after
 * a slice of d ms the next waits d * (1 - SHARE) / SHARE ms, so the walk
 * (and the target's work on what it sends, which is about as much) leaves
 * most of the core to clients; on a loop that ran no command since the last
 * slice, slices run back to back. Slices last SLICE_MS. Measured with 1 ms
 * slices back to back, three nodes on one core: a client's ops/s fell to
 * 0.17x of their rate before the move.
 */
const SHARE = 0.2;
const SLICE_MS = 1;
/** At most this many commands since the last slice count as an idle loop. */
const IDLE_COMMANDS = 2;
/** Bytes the stream may hold unsent before the walk waits for it to drain. */
const WINDOW_BYTES = 8 * 1024 * 1024;
/**
 * Commands the target may have yet to answer before the walk waits for it:
 * the target keeps close behind, so the pause at the end waits for a few
 * thousand RESTOREs, not for a backlog of the whole dataset.
 */
const IN_FLIGHT = 1024;
/** A round of noted keys this small is sent with writes paused (final), once the target is this close behind too. */
const FINAL_KEYS = 256;
/** Rounds of noted keys before the pause comes anyway (a write rate the stream cannot catch). */
const MAX_ROUNDS = 50;

const RESTORE = Buffer.from('RESTORE');
const REPLACE = Buffer.from('REPLACE');
const ABSTTL = Buffer.from('ABSTTL');
const DEL = Buffer.from('DEL');
const ZERO = Buffer.from('0');
const AUTH = Buffer.from('AUTH');
const KVCLUSTER = Buffer.from('KVCLUSTER');
const IMPORTSTREAM = Buffer.from('IMPORTSTREAM');

export class SlotExport {
  state: ExportState = 'walking';
  error: string | null = null;
  readonly startedAt = Date.now();
  /** Keys sent (each RESTORE or DEL), bytes of payload, catch-up rounds. */
  keysSent = 0;
  bytesSent = 0;
  rounds = 0;
  /** slot -> moving. */
  readonly moving = new Uint8Array(SLOTS);
  readonly slotCount: number;
  private readonly stream: PeerStream;
  /** Keys changed since they were sent (or before the walk reached them), by their latin1 text. */
  private dirty = new Map<string, Buffer>();
  private readonly walker: SlotWalk;
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private readonly dump: DumpWriter;

  /** The command count at the last schedule (hardly any since: the loop is idle), and when the running slice began (0: none). */
  private commandsAtSlice = -1;
  private sliceStart = 0;

  constructor(
    private readonly db: Db,
    private readonly opts: ExportOptions,
    private readonly log: (level: string, msg: string) => void,
    /** Commands the server has run (Server.stats.totalCommands). */
    private readonly commands: () => number,
    /** Called once the export is over or failed: writes it paused may run. */
    private readonly resumed: () => void,
  ) {
    let n = 0;
    for (const [a, b] of opts.ranges) for (let s = a; s <= b; s++) if (!this.moving[s]) { this.moving[s] = 1; n++; }
    this.slotCount = n;
    this.dump = new DumpWriter(opts.compression);
    this.walker = new SlotWalk(db, this.moving);
    // Every change to a key now reaches keyChanged (the store tells a db's watchers; this is one).
    db.watchers++;
    this.stream = new PeerStream(opts.host, opts.port, opts.timeoutMs);
    const stream = this.stream;
    stream.batch(() => {
      if (opts.password !== undefined) stream.send(opts.user !== undefined ? [AUTH, opts.user, opts.password] : [AUTH, opts.password]);
      stream.send([KVCLUSTER, IMPORTSTREAM]);
    });
    this.log('notice', `Migrating ${n} slots to ${this.stream.addr}`);
    this.schedule();
  }

  /** host:port of the target. */
  get target(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  /** The moving slots as "a-b,c-d". */
  get rangesText(): string {
    return this.opts.ranges.map(([a, b]) => `${a}-${b}`).join(',');
  }

  /** Whether writes to `slot` must wait (TRYAGAIN): the last keys are on their way. */
  paused(slot: number): boolean {
    return (this.state === 'final' || this.state === 'ready') && this.moving[slot] === 1;
  }

  get running(): boolean {
    return this.state !== 'done' && this.state !== 'failed';
  }

  /** A key of the db changed (written, expired, evicted, deleted): sent again if its slot moves. */
  keyChanged(db: Db, key: Buffer): void {
    if (db !== this.db || !this.running || this.state === 'ready') return;
    if (this.moving[keyHashSlot(key)] !== 1) return;
    this.dirty.set(key.toString('latin1'), Buffer.from(key));
  }

  /**
   * The whole db is about to change (FLUSHDB, FLUSHALL, SWAPDB): what was
   * sent no longer holds, and the migration fails, unless it is ready (the
   * target may own the slots already: it keeps them paused, as always then).
   */
  dbChanged(db: Db): void {
    if (db === this.db && this.running && this.state !== 'ready') this.fail('the database was flushed or swapped during the migration');
  }

  /** A topology was installed: when it no longer gives this node the moving slots, they have moved. */
  topologyInstalled(ownsSlot: (slot: number) => boolean): void {
    if (!this.running) return;
    let still = false;
    for (let s = 0; s < SLOTS && !still; s++) if (this.moving[s] === 1 && ownsSlot(s)) still = true;
    if (still) return;
    if (this.state !== 'ready') this.log('warning', `The migrating slots were given away before the migration was ready (${this.state})`);
    this.finish();
  }

  cancel(): void {
    if (this.running) this.fail('cancelled');
  }

  // ---------------------------------------------------------------------------

  /** The next slice: at once on an idle loop, else after a pause that keeps the migration to its SHARE. */
  private schedule(): void {
    // Idle: no client load since the last slice (the manager's own polls, one every 50 ms, do not count).
    const commands = this.commands();
    const idle = commands - this.commandsAtSlice <= IDLE_COMMANDS;
    this.commandsAtSlice = commands;
    const worked = this.sliceStart > 0 ? performance.now() - this.sliceStart : 0;
    this.sliceStart = 0;
    const pause = idle ? 0 : worked * (1 - SHARE) / SHARE;
    if (pause < 1) this.timer = setImmediate(this.slice);
    else this.timer = setTimeout(this.slice, pause);
  }

  private readonly slice = (): void => {
    this.timer = null;
    if (!this.running) return;
    if (this.stream.failure !== null) return this.fail(this.stream.failure);
    if (this.stream.buffered > WINDOW_BYTES) {
      this.stream.onDrain(() => this.schedule());
      return;
    }
    if (this.stream.pending > IN_FLIGHT) {
      this.stream.whenPendingAtMost(IN_FLIGHT / 2, () => this.schedule());
      return;
    }
    const start = performance.now();
    this.sliceStart = start;
    const until = start + SLICE_MS;
    this.stream.batch(() => {
      switch (this.state) {
        case 'walking':
          return this.walk(until);
        case 'catching-up':
          return this.catchUp(until);
        case 'final':
          return this.final(until);
        default:
      }
    });
  };

  private walk(until: number): void {
    const db = this.db;
    const walker = this.walker;
    do {
      // The key as a view (the stream copies it as it encodes the command) unless it is long enough to go as it is.
      for (const h of walker.step()) {
        const key = db.key(h);
        this.sendEntry(key.length >= SENT_AS_IS ? Buffer.from(key) : key, h);
      }
    } while (!walker.done && performance.now() < until && this.stream.buffered <= WINDOW_BYTES && this.stream.pending <= IN_FLIGHT);
    if (walker.done) {
      this.state = 'catching-up';
      this.log('notice', `Migration to ${this.stream.addr}: ${this.keysSent} keys sent, catching up with ${this.dirty.size} changed since`);
    }
    this.schedule();
  }

  /** Sends the noted keys as they are now; true when none is left. */
  private sendDirty(until: number): boolean {
    for (const [text, key] of this.dirty) {
      this.dirty.delete(text);
      const h = this.db.peek(key);
      const at = h < 0 ? 0 : this.db.expireAt(h);
      if (h < 0 || (at !== 0 && at <= this.db.now())) {
        this.stream.send([DEL, key]);
        this.keysSent++;
      } else {
        this.sendEntry(key, h);
      }
      if (performance.now() >= until || this.stream.buffered > WINDOW_BYTES || this.stream.pending > IN_FLIGHT) return this.dirty.size === 0;
    }
    return true;
  }

  private catchUp(until: number): void {
    if ((this.dirty.size <= FINAL_KEYS && this.stream.pending <= FINAL_KEYS) || this.rounds >= MAX_ROUNDS) {
      // From here no command changes these slots: what is noted now is the last of it.
      this.state = 'final';
      return this.schedule();
    }
    const roundEnd = this.sendDirty(until);
    if (roundEnd) this.rounds++;
    this.schedule();
  }

  private final(until: number): void {
    if (!this.sendDirty(until)) return this.schedule();
    void this.stream.settled().then(() => {
      if (!this.running) return;
      if (this.stream.failure !== null) return this.fail(this.stream.failure);
      // Expiry or eviction may have noted keys meanwhile: they go first.
      if (this.dirty.size > 0) return this.schedule();
      this.state = 'ready';
      this.log('notice', `Migration to ${this.stream.addr} ready: ${this.keysSent} keys sent in ${this.rounds} rounds; waiting for the topology that gives the target the slots`);
    });
  }

  /** RESTORE of entry `h` under `key` (encoded at once: a view of the entry's key will do). */
  private sendEntry(key: Buffer, h: number): void {
    const db = this.db;
    const at = db.expireAtExact(h);
    if (at !== 0n && at <= BigInt(db.now())) return;
    const payload = this.dump.payload(db, h);
    this.stream.send([RESTORE, key, at === 0n ? ZERO : Buffer.from(String(at)), payload, REPLACE, ABSTTL]);
    this.keysSent++;
    this.bytesSent += payload.length;
  }

  private stop(): void {
    if (this.timer !== null) {
      clearImmediate(this.timer as NodeJS.Immediate);
      clearTimeout(this.timer as NodeJS.Timeout);
    }
    this.timer = null;
    this.db.watchers--;
    this.dirty.clear();
    this.stream.close();
    this.resumed();
  }

  private fail(why: string): void {
    this.state = 'failed';
    this.error = why;
    this.stop();
    this.log('warning', `Migration of ${this.slotCount} slots to ${this.opts.host}:${this.opts.port} failed: ${why}; the slots stay here`);
  }

  /** The slots have moved: their keys here are deleted a slice at a time. */
  private finish(): void {
    this.state = 'done';
    this.stop();
    this.log('notice', `Migration of ${this.slotCount} slots to ${this.opts.host}:${this.opts.port} done: ${this.keysSent} keys sent; deleting them here`);
    purgeSlots(this.db, this.moving, (n) => this.log('notice', `Deleted ${n} keys of the slots that moved`));
  }
}

/**
 * Deletes the keys of `db` whose slot is set in `slots` (a walk of the db),
 * `sliceMs` at a time between the event loop's turns (Infinity: at once);
 * `done` gets how many.
 */
export function purgeSlots(db: Db, slots: Uint8Array, done: (deleted: number) => void, sliceMs = SLICE_MS): void {
  const walker = new SlotWalk(db, slots);
  const doomed: Buffer[] = [];
  let deleted = 0;
  const slice = (): void => {
    const until = performance.now() + sliceMs;
    do {
      for (const h of walker.step()) doomed.push(Buffer.from(db.key(h)));
      // Deleted after the step (the walk itself must not write), by peek: a lookup would pin each one.
      for (const k of doomed) {
        const h = db.peek(k);
        if (h < 0) continue;
        db.removeEntry(h);
        deleted++;
      }
      doomed.length = 0;
    } while (!walker.done && performance.now() < until);
    if (walker.done) done(deleted);
    else setImmediate(slice);
  };
  slice();
}
