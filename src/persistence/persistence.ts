// The snapshot subsystem: where the dump lives (dir + dbfilename), saving it
// (SAVE, BGSAVE and the save rules' background saves, the save at shutdown,
// FLUSHALL with save rules), loading it (at start-up, DEBUG RELOAD), refusing
// writes after a failed background save (-MISCONF), and what INFO persistence
// and LASTSAVE report. The file formats are rdb-save.ts's and rdb-load.ts's,
// the fork-free background save background-save.ts's.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/configuration.js';
import type { Store } from '../store/store.js';
import { KVSLAB_VERSION, REDIS_VERSION } from '../version.js';
import { saveRdbFile, type SaveOptions, type SaveStats } from './rdb-save.js';
import { loadRdbFile, RdbLoad, type LoadOptions, type LoadStats } from './rdb-load.js';
import { BackgroundSave, type BackgroundSaveResult } from './background-save.js';

/** Redis's loading_process_events_interval_bytes: clients are served after each such slice of a load at start-up. */
const LOAD_SLICE_BYTES = 2 * 1024 * 1024;
/** A dump this big loads with large blocks faulted in ahead by a thread (a thread's start costs more than a small load). */
const PREFAULT_MIN_DUMP = 64 * 1024 * 1024;
const PREFAULT_AHEAD = 128 * 1024 * 1024;

/** Redis's CONFIG_BGSAVE_RETRY_DELAY: after a failed background save, the save rules wait this long (s) before trying again. */
const BGSAVE_RETRY_DELAY = 5;

/** The -MISCONF error Redis gives writes after a failed background save (stop-writes-on-bgsave-error). */
export const ERR_MISCONF = 'MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk. '
  + 'Commands that may modify the data set are disabled, because this instance is configured to report errors during writes '
  + 'if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.';

/** BGSAVE's outcome for its reply. */
export type BgsaveStart = 'started' | 'scheduled' | 'in-progress';

/** What the snapshot subsystem needs of the server (the Server is one). */
export interface PersistenceHost {
  readonly config: Config;
  readonly store: Store;
  log(level: string, msg: string): void;
  usedMemory(): number;
  /** Frees memory down to maxmemory as the policy allows (loading a dump bigger than it); false when it cannot. */
  makeRoom(): boolean;
  /** Commands run so far: a background save's walk takes long slices only while none come. */
  readonly stats: { readonly totalCommands: number };
}

/** How a shutdown treats the dump: as the save rules say, always, or never (SHUTDOWN [SAVE|NOSAVE]). */
export type ShutdownSave = 'rules' | 'save' | 'nosave';

export class Persistence {
  /** Unix seconds of the last successful save (LASTSAVE); the start time until the first. */
  lastSave = Math.floor(Date.now() / 1000);
  /** Saves done since start (rdb_saves). */
  saves = 0;
  /** The store's change count when the last save began (rdb_changes_since_last_save counts from it). */
  private changesAtSave = 0;
  /** Keys the last load (at start, DEBUG RELOAD) put in the store, and those it dropped as expired. */
  lastLoadLoaded = 0;
  lastLoadExpired = 0;
  /** The load at start-up while it runs (INFO's loading_* fields read it). */
  private loading: { load: RdbLoad; startedAt: number; startedMs: number; usedMem: number } | null = null;
  /** The running background save, if any. */
  private bgsave: BackgroundSave | null = null;
  /** Whether the last background save worked (rdb_last_bgsave_status; a SAVE that works sets it too, as Redis). */
  lastBgsaveOk = true;
  /** Unix seconds of the last background save started (the save rules' retry delay counts from it). */
  private lastBgsaveTry = 0;
  /** Seconds the last background save took (rdb_last_bgsave_time_sec), -1 before the first. */
  private lastBgsaveSeconds = -1;
  /** rdb_last_cow_size: old values the last background save wrote ahead of its walk. */
  private lastCowBytes = 0;
  /** BGSAVE inside EXEC (or SCHEDULE) asked for one: the cron starts it. */
  private bgsaveScheduled = false;

  constructor(private readonly host: PersistenceHost) {}

  /** The dump's path: dbfilename in dir (dir is absolute once the server has started). */
  get path(): string {
    return join(this.host.config.str('dir'), this.host.config.str('dbfilename'));
  }

  /** rdb_changes_since_last_save. */
  get changesSinceSave(): number {
    return this.host.store.changes - this.changesAtSave;
  }

  /** Whether any save rule is set (Redis saves at shutdown and after FLUSHALL then). */
  get hasSaveRules(): boolean {
    return this.host.config.str('save') !== '';
  }

  private saveOptions(): SaveOptions {
    const config = this.host.config;
    return {
      compression: config.bool('rdbcompression'),
      checksum: config.bool('rdbchecksum'),
      skipTensors: !config.bool('rdb-save-tensors'),
      hints: this.host.store.accessHints,
      usedMemory: this.host.usedMemory(),
      redisVersion: REDIS_VERSION,
      kvslabVersion: KVSLAB_VERSION,
    };
  }

  /**
   * Loads the dump at start-up, when there is one (Redis's loadDataFromDisk):
   * the store is empty. Throws RdbError (the offset named) or LoadError; the
   * caller does not start then. Logs as Redis does.
   */
  async loadAtStart(): Promise<void> {
    if (!existsSync(this.path)) return;
    const started = performance.now();
    const load = new RdbLoad(this.path, this.host, { ...this.loadOptions(false), checksumThread: true });
    this.loading = { load, startedAt: Date.now(), startedMs: started, usedMem: 0 };
    const prefault = statSync(this.path).size >= PREFAULT_MIN_DUMP && this.host.store.startPrefault(this.prefaultAhead());
    try {
      let stats: LoadStats | null = null;
      while ((stats = load.step(LOAD_SLICE_BYTES)) === null) {
        if (this.loading.usedMem === 0) this.loading.usedMem = Number(load.stats.aux.get('used-mem') ?? 0);
        // Clients are served between slices (they get -LOADING for what needs data), and while the CRC thread finishes.
        await (load.pending ?? new Promise((r) => setImmediate(r)));
      }
      this.loaded(stats);
    } finally {
      load.close();
      this.loading = null;
      const pool = prefault ? this.host.store.stopPrefault() : null;
      if (pool !== null && pool.faulted + pool.claimed + pool.waited > 0) {
        this.host.log('verbose', `Large blocks faulted in ahead by a thread: ${pool.faulted}, by the loader while the thread was busy: ${pool.claimed}, waited for: ${pool.waited}`);
      }
    }
    this.host.log('notice', `DB loaded from disk: ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
    // What was just read from the dump is on disk already.
    this.changesAtSave = this.host.store.changes;
  }

  /** Whether the dump is being loaded (commands that need data get -LOADING, INFO shows loading:1). */
  get isLoading(): boolean { return this.loading !== null; }

  /**
   * DEBUG RELOAD (Redis 7.0's): saves the dump unless `save` is false, empties
   * every database unless `flush` is false, then loads the dump, a key of it
   * replacing one the store holds when `merge` is set (without, such a key
   * fails the load). Redis stops the server when a load fails mid-way (a
   * duplicated key panics it); kvslab logs why, answers the error and keeps
   * what was loaded until then. The changes not
   * yet saved stay counted as they were: the flush and load are not changes.
   */
  reload(opts: { save: boolean; flush: boolean; merge: boolean }): 'ok' | 'save-failed' | 'load-failed' {
    // The flush would free entries the snapshot has yet to write: a running background save stops first.
    this.abortBackgroundSave();
    if (opts.save && !this.save()) return 'save-failed';
    const store = this.host.store;
    const unsaved = this.changesSinceSave;
    try {
      if (opts.flush) store.flushAll();
      // A dump that is not there fails here too (after the flush, as in Redis).
      this.load(opts.merge);
    } catch (e) {
      this.host.log('warning', `DEBUG RELOAD: loading ${this.path} failed: ${(e as Error).message}`);
      return 'load-failed';
    } finally {
      this.changesAtSave = store.changes - unsaved;
    }
    this.host.log('warning', 'DB reloaded by DEBUG RELOAD');
    return 'ok';
  }

  /** The dump into the store, logged as Redis logs a load; the load counters of INFO persistence set. */
  private load(replace: boolean): void {
    this.loaded(loadRdbFile(this.path, this.host, this.loadOptions(replace)));
  }

  /** Bytes of large blocks held faulted in ahead of the load: 128 MiB, or an eighth of maxmemory when that is less. */
  private prefaultAhead(): number {
    const max = this.host.config.int('maxmemory');
    return max > 0 ? Math.min(PREFAULT_AHEAD, Math.floor(max / 8)) : PREFAULT_AHEAD;
  }

  private loadOptions(replace: boolean): LoadOptions {
    const config = this.host.config;
    return {
      checksum: config.bool('rdbchecksum'),
      skipUnknownTypes: config.bool('rdb-load-skip-unknown-types'),
      maxmemory: config.int('maxmemory'),
      policy: config.str('maxmemory-policy'),
      replace,
    };
  }

  /** A load's log lines, as Redis's, and INFO's load counters. */
  private loaded(stats: LoadStats): void {
    const log = (msg: string) => this.host.log('notice', msg);
    const ver = stats.aux.get('kvslab-ver');
    log(`Loading RDB produced by ${ver !== undefined ? `kvslab ${ver}` : `version ${stats.aux.get('redis-ver') ?? 'unknown'}`}`);
    const ctime = Number(stats.aux.get('ctime'));
    if (Number.isFinite(ctime)) log(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - ctime)} seconds`);
    if (stats.skipped > 0) this.host.log('warning', `${stats.skipped} keys of types kvslab does not have were skipped (rdb-load-skip-unknown-types yes)`);
    if (stats.evicted > 0) this.host.log('warning', `${stats.evicted} keys evicted to fit maxmemory while loading`);
    log(`Done loading RDB, keys loaded: ${stats.loaded}, keys expired: ${stats.expired}.`);
    this.lastLoadLoaded = stats.loaded;
    this.lastLoadExpired = stats.expired;
  }

  /** Memory a running background save holds outside the store (counted against maxmemory). */
  get snapshotBytes(): number { return this.bgsave?.heldBytes ?? 0; }

  /** Whether a background save is running (SAVE and BGSAVE are refused meanwhile). */
  get bgsaveInProgress(): boolean { return this.bgsave !== null; }

  /**
   * Whether write commands get -MISCONF (Redis's writeCommandsDeniedByDiskError):
   * the last background save failed, save rules are set and
   * stop-writes-on-bgsave-error is yes. One field read while saves work.
   */
  get refusingWrites(): boolean {
    return !this.lastBgsaveOk && this.hasSaveRules && this.host.config.bool('stop-writes-on-bgsave-error');
  }

  /**
   * BGSAVE: starts a background save, or schedules one (`schedule`: inside
   * EXEC, as Redis, where it would otherwise run in the middle of the
   * transaction). A file that cannot be written fails the save later
   * (rdb_last_bgsave_status), as in Redis, whose child is the one to find out.
   */
  backgroundSave(schedule = false): BgsaveStart {
    if (this.bgsave !== null) return 'in-progress';
    if (schedule) {
      this.bgsaveScheduled = true;
      return 'scheduled';
    }
    const changes = this.host.store.changes;
    this.saves++;
    this.lastBgsaveTry = Math.floor(Date.now() / 1000);
    this.bgsave = new BackgroundSave(this.host.store, this.path, this.saveOptions(), () => this.host.stats.totalCommands, (r) => this.bgsaveDone(r, changes));
    this.bgsaveScheduled = false;
    this.host.log('notice', 'Background saving started');
    return 'started';
  }

  private bgsaveDone(r: BackgroundSaveResult, changesAtStart: number): void {
    const bg = this.bgsave as BackgroundSave;
    this.bgsave = null;
    this.lastBgsaveSeconds = Math.round((performance.now() - bg.startedAt) / 1000);
    this.lastCowBytes = r.cowBytes;
    if (r.error !== null) {
      this.host.log('warning', `Write error saving DB on disk: ${r.error.message}`);
      this.host.log('warning', 'Background saving error');
      this.lastBgsaveOk = false;
      return;
    }
    if (r.tensorsSkipped > 0) this.host.log('warning', `rdb-save-tensors is no: ${r.tensorsSkipped} KV tensor key(s) left out of the dump`);
    this.host.log('notice', `DB saved on disk (${r.keys} keys, ${r.bytes} bytes, ${r.cowBytes} bytes of old values written ahead of the walk)`);
    this.host.log('notice', 'Background saving terminated with success');
    this.changesAtSave = changesAtStart;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveOk = true;
  }

  /** Stops a running background save, its temporary file removed (FLUSHALL, SHUTDOWN). */
  abortBackgroundSave(): void {
    if (this.bgsave === null) return;
    this.bgsave.abort();
    this.bgsave = null;
    this.host.log('notice', 'Background saving stopped: the previous dump stays');
  }

  /**
   * The cron's part (Redis's serverCron): a save rule that is due, or a
   * scheduled BGSAVE, starts a background save; after a failure, the rules
   * wait BGSAVE_RETRY_DELAY seconds between tries.
   */
  cron(): void {
    if (this.bgsave !== null || this.loading !== null) return;
    const now = Math.floor(Date.now() / 1000);
    const mayRetry = this.lastBgsaveOk || now - this.lastBgsaveTry > BGSAVE_RETRY_DELAY;
    if (!mayRetry) return;
    const changes = this.changesSinceSave;
    for (const [seconds, needed] of parseSaveRules(this.host.config.str('save'))) {
      if (changes >= needed && now - this.lastSave > seconds) {
        this.host.log('notice', `${needed} changes in ${seconds} seconds. Saving...`);
        this.backgroundSave();
        return;
      }
    }
    if (this.bgsaveScheduled) this.backgroundSave();
  }

  /** SAVE: the dataset to the dump file, blocking. Logs as Redis does; false when it failed (the old dump stays). */
  save(): boolean {
    const started = performance.now();
    const changes = this.host.store.changes;
    let stats: SaveStats;
    try {
      stats = saveRdbFile(this.host.store, this.path, this.saveOptions());
    } catch (e) {
      // As Redis: a failed SAVE is its error reply; rdb_last_bgsave_status is the background save's.
      this.host.log('warning', `Failed saving the DB to ${this.path}: ${(e as Error).message}`);
      return false;
    }
    this.changesAtSave = changes;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.saves++;
    // As Redis's rdbSave: a save that works clears a failed background save's -MISCONF.
    this.lastBgsaveOk = true;
    if (stats.tensorsSkipped > 0) {
      this.host.log('warning', `rdb-save-tensors is no: ${stats.tensorsSkipped} KV tensor key(s) left out of the dump`);
    }
    this.host.log('notice', `DB saved on disk (${stats.keys} keys, ${stats.bytes} bytes, ${Math.round(performance.now() - started)} ms)`);
    return true;
  }

  /**
   * The save before a shutdown (Redis's prepareForShutdown): with save rules
   * (or SAVE), unless NOSAVE. False when it failed: the shutdown stops,
   * unless forced.
   */
  saveForShutdown(mode: ShutdownSave): boolean {
    // As Redis: a background save in progress is stopped, its temporary file removed.
    this.abortBackgroundSave();
    if (mode === 'nosave' || (mode === 'rules' && !this.hasSaveRules)) return true;
    // Half a dataset must not overwrite the dump it is being read from (Redis: NOSAVE while loading).
    if (this.loading !== null) {
      this.host.log('warning', 'Shutting down while loading the dump: not saving.');
      return true;
    }
    this.host.log('notice', 'Saving the final RDB snapshot before exiting.');
    if (this.save()) return true;
    this.host.log('warning', 'Error trying to save the DB, can\'t exit.');
    return false;
  }

  /** Redis's loading_* fields, while a load runs. */
  private loadingFields(): [string, string | number][] {
    const l = this.loading;
    if (l === null) return [];
    const done = l.load.offset;
    const total = l.load.size;
    // Redis's estimate: whole seconds elapsed, 1 while none has.
    const elapsed = Math.floor((performance.now() - l.startedMs) / 1000);
    const eta = elapsed === 0 ? 1 : Math.floor((elapsed * (total - done)) / (done + 1));
    return [
      ['loading_start_time', Math.floor(l.startedAt / 1000)],
      ['loading_total_bytes', total],
      ['loading_rdb_used_mem', l.usedMem],
      ['loading_loaded_bytes', done],
      ['loading_loaded_perc', total > 0 ? ((100 * done) / total).toFixed(2) : '0.00'],
      ['loading_eta_seconds', eta],
    ];
  }

  /** INFO persistence, Redis 7.0's fields (no AOF, no fork: those read as an idle Redis's). */
  infoFields(): [string, string | number][] {
    const bg = this.bgsave;
    return [
      ['loading', this.loading !== null ? 1 : 0],
      ['async_loading', 0],
      // "Copy on write" here: the old values a running save wrote ahead of its walk.
      ['current_cow_peak', bg?.cowBytes ?? 0],
      ['current_cow_size', bg?.cowBytes ?? 0],
      ['current_cow_size_age', 0],
      ['current_fork_perc', bg !== null && bg.keysTotal > 0 ? ((100 * bg.keysDone) / bg.keysTotal).toFixed(2) : '0.00'],
      ['current_save_keys_processed', bg?.keysDone ?? 0],
      ['current_save_keys_total', bg?.keysTotal ?? 0],
      ['rdb_changes_since_last_save', this.changesSinceSave],
      ['rdb_bgsave_in_progress', bg !== null ? 1 : 0],
      ['rdb_last_save_time', this.lastSave],
      // The background save's status; a failed SAVE does not change it (Redis).
      ['rdb_last_bgsave_status', this.lastBgsaveOk ? 'ok' : 'err'],
      ['rdb_last_bgsave_time_sec', this.lastBgsaveSeconds],
      ['rdb_current_bgsave_time_sec', bg !== null ? Math.round((performance.now() - bg.startedAt) / 1000) : -1],
      ['rdb_saves', this.saves],
      ['rdb_last_cow_size', this.lastCowBytes],
      ['rdb_last_load_keys_expired', this.lastLoadExpired],
      ['rdb_last_load_keys_loaded', this.lastLoadLoaded],
      ['aof_enabled', 0],
      ['aof_rewrite_in_progress', 0],
      ['aof_rewrite_scheduled', 0],
      ['aof_last_rewrite_time_sec', -1],
      ['aof_current_rewrite_time_sec', -1],
      ['aof_last_bgrewrite_status', 'ok'],
      ['aof_rewrites', 0],
      ['aof_rewrites_consecutive_failures', 0],
      ['aof_last_write_status', 'ok'],
      ['aof_last_cow_size', 0],
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
      // Last, as Redis prints them.
      ...this.loadingFields(),
    ];
  }
}

/** The `save` directive's rules: "3600 1 300 100" is [[3600, 1], [300, 100]]; "" none. */
export function parseSaveRules(text: string): [number, number][] {
  const parts = text.trim().split(/\s+/).filter((p) => p !== '');
  const rules: [number, number][] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) rules.push([Number(parts[i]), Number(parts[i + 1])]);
  return rules;
}
