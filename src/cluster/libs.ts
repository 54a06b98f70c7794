/**
 * BullMQ and ioredis, loaded with `require`, and only when first used. Both are CommonJS: importing
 * them from ESM makes Node lex every re-exported file for named exports (cjs-module-lexer), which
 * cost a worker process about 150 ms of its start-up; `require` skips that. And every program that
 * imports weft (a flow on local runners, and each worker thread or process importing a task module,
 * which imports weft to define its tasks) would load their ~300 files, about 200 ms of CPU, for
 * nothing: each class here is a stand-in that requires its package on first `new`, `instanceof`
 * or static member. Types come from the packages as usual.
 */
import { createRequire } from 'node:module';
import { fromSources } from '../util/sibling.ts';

const require = createRequire(import.meta.url);

type Libs = Pick<typeof import('bullmq'), 'Queue' | 'Worker'> & Pick<typeof import('ioredis'), 'Redis' | 'Cluster'>;

/**
 * Both packages, from one place: in the built package, the one-file bundle `npm run build` makes
 * of them (scripts/bundle.mjs: about half their CPU to load, since a worker process reads and
 * compiles one file instead of ~300); from the sources (or a dist built by tsc alone), the
 * packages themselves. Never one from each: BullMQ must drive the ioredis its connections are.
 */
let libs: Libs | undefined;
function load(): Libs {
  if (libs) return libs;
  if (!fromSources(import.meta.url)) {
    try {
      return (libs = require('../cluster/libs.bundle.cjs') as Libs);
    } catch (error) {
      // A dist built by tsc alone (no bundle beside it): the packages, as from the sources.
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND' || !/libs\.bundle\.cjs/.test((error as Error).message)) throw error;
    }
  }
  const { Queue, Worker } = require('bullmq') as typeof import('bullmq');
  const { Redis, Cluster } = require('ioredis') as typeof import('ioredis');
  return (libs = { Queue, Worker, Redis, Cluster });
}

type Class = abstract new (...args: never[]) => unknown;

/** A stand-in for the class `load()` returns, which is called (once) only when the class is first used. */
function lazyClass<C extends Class>(load: () => C): C {
  let real: C | undefined;
  const get = (): C => (real ??= load());
  const proxy: C = new Proxy(function standIn() {} as unknown as C, {
    construct: (_target, args, newTarget) => Reflect.construct(get() as unknown as new (...a: unknown[]) => object, args, newTarget === proxy ? get() : newTarget),
    get: (_target, key) => (key === Symbol.hasInstance ? (value: unknown) => value instanceof get() : Reflect.get(get(), key)),
    getPrototypeOf: () => Reflect.getPrototypeOf(get()),
  });
  return proxy;
}

export const Queue = lazyClass(() => load().Queue);
export const Worker = lazyClass(() => load().Worker);
export const Redis = lazyClass(() => load().Redis);
export const Cluster = lazyClass(() => load().Cluster);
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
