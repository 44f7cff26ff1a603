// Versions reported to clients: the Redis version whose behaviour kvslab follows
// (clients gate features on it), and kvslab's own.
export const REDIS_VERSION = '7.0.15';
export const KVSLAB_VERSION = '0.1.0';
