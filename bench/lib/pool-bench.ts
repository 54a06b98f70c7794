/**
 * The no-op throughput comparison the threads and processes suites share: weft's runner against a
 * raw pool library, interleaved round by round so both see the same machine, as medians.
 */
import { median } from './harness.ts';

export interface RawPoolRun {
  /** Time for `n` no-op tasks once the pool's workers are warm. */
  readonly warmMs: number;
  /** The same, with the pool's start-up and shutdown. */
  readonly totalMs: number;
}

export interface NoopRates {
  readonly weftWarm: number;
  readonly weftTotal: number;
  readonly rawWarm: number;
  readonly rawTotal: number;
  /** `runTypeScript`'s total, when given. */
  readonly typeScriptTotal?: number;
}

/**
 * tasks/s for `n` tasks: weft's warm time comes from `runWeft` (which times itself), totals around
 * it. `runTypeScript`, if given, is a second weft run (a TypeScript task module) in the same rounds:
 * only its total is kept.
 */
export async function noopRates(n: number, runWeft: () => Promise<number>, runRaw: () => Promise<RawPoolRun>, rounds = 5, runTypeScript?: () => Promise<number>): Promise<NoopRates> {
  const weftWarm: number[] = [];
  const weftTotal: number[] = [];
  const rawWarm: number[] = [];
  const rawTotal: number[] = [];
  const typeScriptTotal: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    weftWarm.push(await runWeft());
    weftTotal.push(performance.now() - t0);
    const raw = await runRaw();
    rawWarm.push(raw.warmMs);
    rawTotal.push(raw.totalMs);
    if (runTypeScript) {
      const t1 = performance.now();
      await runTypeScript();
      typeScriptTotal.push(performance.now() - t1);
    }
  }
  const rate = (ms: number) => (n / ms) * 1000;
  return { weftWarm: rate(median(weftWarm)), weftTotal: rate(median(weftTotal)), rawWarm: rate(median(rawWarm)), rawTotal: rate(median(rawTotal)), ...(runTypeScript ? { typeScriptTotal: rate(median(typeScriptTotal)) } : {}) };
}
