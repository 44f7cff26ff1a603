// The baseline build of `run.mjs --baseline <git-ref>`: kvslab at another git
// revision, checked out in a temporary worktree, built there, and run as the
// server kvslab-base next to the working tree's kvslab, so a refactor's
// throughput is compared in the same run on the same machine.
//
// The worktree borrows the repository's node_modules (a symlink: the
// revision's own dependencies are assumed to be the same, and installing
// them per run would take minutes) and is removed when the run ends, also
// when it fails or is interrupted (removeBaseline is idempotent and
// synchronous, so it can run in an 'exit' handler).

import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from './machine.mjs';

/** @typedef {import('./servers.mjs').Baseline} Baseline */

/** The worktree this process made and has not removed yet. @type {string|null} */
let current = null;

/** git in the repository; its stderr goes into the thrown error. @param {string[]} args */
function git(...args) {
  try {
    return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = /** @type {{ stderr?: string }} */ (e).stderr?.trim();
    throw new Error(`git ${args.join(' ')}: ${err || (e instanceof Error ? e.message : e)}`);
  }
}

/** HEAD of the working tree, and whether it has changes on top (those are what kvslab runs). */
export function workingRevision() {
  try {
    return { sha: git('rev-parse', 'HEAD'), short: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no') !== '' };
  } catch {
    return null;
  }
}

/**
 * Checks out `ref` in a temporary worktree and builds it (`npx tsc -p
 * tsconfig.json`, as `make build` does). Throws with git's or tsc's message.
 * @param {string} ref  Anything git rev-parse takes: HEAD~1, a branch, a hash.
 * @param {(s: string) => void} log
 * @returns {Promise<Baseline & { dir: string }>}
 */
export async function prepareBaseline(ref, log) {
  let sha;
  try {
    sha = git('rev-parse', '--verify', '--end-of-options', `${ref}^{commit}`);
  } catch {
    throw new Error(`--baseline: '${ref}' is not a commit of ${ROOT}`);
  }
  const short = git('rev-parse', '--short', sha);
  const subject = git('log', '-1', '--format=%s', sha);
  const modules = join(ROOT, 'node_modules');
  if (!existsSync(modules)) throw new Error(`--baseline: ${modules} is missing (run \`npm install\`): the baseline build borrows it`);

  const t0 = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `kvslab-bench-base-${short}-`));
  current = dir;
  // --detach: a ref equal to a checked-out branch (HEAD itself, for an A/A check) is fine.
  git('worktree', 'add', '--detach', dir, sha);
  symlinkSync(resolve(modules), join(dir, 'node_modules'));
  log(`baseline: building kvslab@${short} (${ref}: ${subject}) in ${dir}`);
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const out = /** @type {{ stdout?: string, stderr?: string }} */ (e);
    const text = `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new Error(`--baseline: building ${ref} (${short}) failed:\n${text || (e instanceof Error ? e.message : e)}`);
  }
  if (!existsSync(join(dir, 'bin', 'kvslab-server'))) throw new Error(`--baseline: ${ref} (${short}) has no bin/kvslab-server`);
  let version = 'unknown';
  try {
    const v = await import(join(dir, 'dist', 'version.js'));
    version = String(v.KVSLAB_VERSION ?? 'unknown');
  } catch { /* an old revision without src/version.ts */ }
  log(`baseline: kvslab@${short} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { ref, sha, short, subject, version, dir };
}

/** Removes the baseline worktree, if this process made one (safe to call more than once). */
export function removeBaseline() {
  const dir = current;
  if (!dir) return;
  current = null;
  // The link first, so nothing below can reach into the shared node_modules.
  try {
    if (lstatSync(join(dir, 'node_modules')).isSymbolicLink()) unlinkSync(join(dir, 'node_modules'));
  } catch { /* not made yet */ }
  try {
    git('worktree', 'remove', '--force', dir);
  } catch {
    // Not registered (git worktree add failed) or half gone: delete what is left, then
    // git's record of it, if any (remove takes a worktree whose directory is gone).
    rmSync(dir, { recursive: true, force: true });
    try { git('worktree', 'remove', '--force', dir); } catch { /* was never registered */ }
  }
}
