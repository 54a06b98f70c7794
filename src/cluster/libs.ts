/**
 * BullMQ and ioredis, loaded with `require`. Both are CommonJS: importing them from ESM makes
 * Node lex every re-exported file for named exports (cjs-module-lexer), which cost a worker
 * process about 150 ms of its start-up; `require` skips that. Types come from the packages as usual.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const { Queue, Worker } = require('bullmq') as typeof import('bullmq');
export const { Redis, Cluster } = require('ioredis') as typeof import('ioredis');
export type { Job } from 'bullmq';
export type Queue = import('bullmq').Queue;
export type Worker<T = unknown> = import('bullmq').Worker<T>;
/**
 * A connection to a weft cluster's Redis: one server (`redis://`) or a Redis Cluster
 * (`redis+cluster://`, an ioredis `Cluster`). Both speak the same commands; on a Redis Cluster
 * every multi-key command, MULTI and pipeline must stay within one hash slot (queues.ts's layout).
 */
export type Redis = import('ioredis').Redis | import('ioredis').Cluster;
export type Cluster = import('ioredis').Cluster;
export type { RedisOptions, ClusterOptions } from 'ioredis';
