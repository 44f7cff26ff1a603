// The node's own cluster file (cluster-config-file, nodes.conf by default, in
// `dir`): its node id, made at first start, the current epoch and the last
// topology it accepted, so that a restarted node comes back with its id and
// owning its slots without waiting for the manager. One JSON object:
//
//   { "node-id": "<40 hex>", "current-epoch": 7, "topology": { ...topology.ts's format... } | null }
//
// Written whole on every accepted push, atomically (util/durable-file.ts): a
// crash leaves the old file or the new one, never a mix.

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../util/durable-file.js';
import { parseTopology, type Topology } from './topology.js';

export interface NodeConfig {
  nodeId: string;
  currentEpoch: number;
  topology: Topology | null;
}

/** A fresh node id: 40 random hex digits, as Redis makes them. */
export function newNodeId(): string {
  return randomBytes(20).toString('hex');
}

/** The file's contents, null when there is none; throws on a file that cannot be read back (the node must not start with a wrong id). */
export function readNodeConfig(path: string): NodeConfig | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let v: { 'node-id'?: unknown; 'current-epoch'?: unknown; topology?: unknown };
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`Unrecoverable error: corrupted cluster config file "${path}" (not JSON).`);
  }
  const id = v['node-id'];
  const epoch = v['current-epoch'];
  if (typeof id !== 'string' || !/^[0-9a-f]{40}$/.test(id)) throw new Error(`Unrecoverable error: corrupted cluster config file "${path}" (bad node-id).`);
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw new Error(`Unrecoverable error: corrupted cluster config file "${path}" (bad current-epoch).`);
  if (v.topology === null || v.topology === undefined) return { nodeId: id, currentEpoch: epoch, topology: null };
  const topology = parseTopology(JSON.stringify(v.topology));
  if (typeof topology === 'string') throw new Error(`Unrecoverable error: corrupted cluster config file "${path}": ${topology}.`);
  return { nodeId: id, currentEpoch: epoch, topology };
}

/** Replaces the file atomically (see the top of the file); throws when it cannot be written. */
export function writeNodeConfig(path: string, cfg: NodeConfig): void {
  const text = `${JSON.stringify({ 'node-id': cfg.nodeId, 'current-epoch': cfg.currentEpoch, topology: cfg.topology?.toJSON() ?? null })}\n`;
  writeFileAtomic(path, text);
}
