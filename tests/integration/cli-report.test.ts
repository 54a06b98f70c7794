/** `weft run` keeps run logs and reports, `weft runs` lists them, `weft report` renders them again and exports traces. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { EXPECTED } from '../fixtures/report/flows.ts';

const bin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const flows = fileURLToPath(new URL('../fixtures/report/flows.ts', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'weft-cli-report-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

function weft(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('run history and weft report', () => {
  let id = '';

  it('weft run keeps the run log, writes --report, and says where both are', () => {
    const r = weft(['run', `${flows}:mixed`, '--report', 'r.html']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split('\n').filter((l) => !/ INFO /.test(l)).join('\n').trim(), 'done');
    const match = /run log: (\.weft\/runs\/([0-9a-f-]{36})) \(weft report \2\)/.exec(r.err);
    assert.ok(match, r.err);
    id = match[2]!;
    assert.match(r.err, new RegExp(`performance report: ${join(cwd, 'r.html').replace(/[.]/g, '\\.')}`));
    assert.ok(existsSync(join(cwd, match[1]!, 'events.bin.gz')));
    // Task logs carry a time stamp, level, flow run and task run.
    assert.match(r.out, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  \\[${id.slice(0, 8)}/chatty-1\\] chatty says 0$`, 'm'));
  });

  it('weft runs lists it with state, duration and task runs', () => {
    const r = weft(['runs']);
    assert.equal(r.code, 0, r.err);
    const line = r.out.split('\n').find((l) => l.startsWith(id));
    assert.ok(line, r.out);
    assert.match(line, new RegExp(`^${id}\\s+mixed\\s+Completed\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\d+(\\.\\d)? m?s\\s+${EXPECTED.taskRuns} \\(1 failed\\)$`));
  });

  it('weft report <id> renders the same HTML as the run wrote', () => {
    const r = weft(['report', id.slice(0, 8), '--output', 'again.html']);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(cwd, 'again.html'), 'utf8'), readFileSync(join(cwd, 'r.html'), 'utf8'));
  });

  it('weft report --trace exports trace events, gzipped for .gz', () => {
    const r = weft(['report', id, '--trace', 't.json.gz']);
    assert.equal(r.code, 0, r.err);
    const trace = JSON.parse(gunzipSync(readFileSync(join(cwd, 't.json.gz'))).toString()) as { traceEvents: Array<{ ph: string; pid: number; tid: number }> };
    assert.equal(trace.traceEvents.filter((e) => e.ph === 'X').length, EXPECTED.attempts);
    assert.ok(trace.traceEvents.every((e) => Number.isInteger(e.pid) && Number.isInteger(e.tid)));
  });

  it('bad input: an unknown run, a report path in a missing directory (before the run starts)', () => {
    const unknown = weft(['report', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /no run 'nope' under .*\.weft\/runs and no such file; `weft runs` lists the kept runs/);
    const before = weft(['runs']).out;
    const bad = weft(['run', `${flows}:mixed`, '--report', '/no/such/dir/r.html']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /Expected `--report` to be a path in a directory that exists: \/no\/such\/dir does not/);
    assert.equal(weft(['runs']).out, before, 'no run was started');
  });

  it('off a terminal, progress is a plain line every few seconds', () => {
    const r = weft(['run', `${flows}:steady`, '--no-history'], { WEFT_PROGRESS_EVERY_MS: '300', WEFT_TASK_LOGS: 'off' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^weft: \d+\/\d+ task runs · \d+ running \(\d+ s\)$/m);
    assert.doesNotMatch(r.err, /run log:/);
    assert.doesNotMatch(r.err, /\r/);
  });
});
