import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CancelledError, ClusterConnectionError, ErrorCode, FlowRunError, InvalidOptionError, SerializationError, TaskNotFoundError,
  TaskRunError, TaskTimeoutError, UpstreamFailedError, UsageError, WeftError, WorkerCrashedError, FlowParametersError, UnguardedModuleError,
  AsCompletedTimeoutError, WorkerStartError, CodeVersionError,
} from '../../src/index.ts';
import { fromWireError, toWireError } from '../../src/protocol/wire-error.ts';

const samples: [WeftError, string, string][] = [
  [new TaskRunError('download', 'download-1', new Error('404')), 'TaskRunError', ErrorCode.TaskRun],
  [new FlowRunError('plumes', 'run-1', 'Failed', new Error('x')), 'FlowRunError', ErrorCode.FlowRun],
  [new WorkerCrashedError('download', 'thread-1', 'exited with code 1'), 'WorkerCrashedError', ErrorCode.WorkerCrashed],
  [new TaskNotFoundError('download', 'file:///tasks.ts', 'no such task'), 'TaskNotFoundError', ErrorCode.TaskNotFound],
  [new SerializationError('args[1].callback', 'function cb'), 'SerializationError', ErrorCode.Serialization],
  [new ClusterConnectionError('redis://127.0.0.1:1', 'connection refused'), 'ClusterConnectionError', ErrorCode.ClusterConnection],
  [new CancelledError('stop'), 'CancelledError', ErrorCode.Cancelled],
  [new TaskTimeoutError('download', 50), 'TaskTimeoutError', ErrorCode.TaskTimeout],
  [new UpstreamFailedError('render', 'download', 'download-1', 'Failed'), 'UpstreamFailedError', ErrorCode.UpstreamFailed],
  [new InvalidOptionError('retries', 'an integer ≥ 0', -1), 'InvalidOptionError', ErrorCode.InvalidOption],
  [new UsageError('do it differently'), 'UsageError', ErrorCode.Usage],
  [new FlowParametersError('report', [{ parameter: 'pages', message: 'expected number', received: 'abc' }]), 'FlowParametersError', ErrorCode.FlowParameters],
  [new UnguardedModuleError('report', 'file:///report.ts'), 'UnguardedModuleError', ErrorCode.UnguardedModule],
  [new AsCompletedTimeoutError(2, 50), 'AsCompletedTimeoutError', ErrorCode.AsCompletedTimeout],
  [new WorkerStartError('process-3', 3, 'it exited with code 9 before it was ready'), 'WorkerStartError', ErrorCode.WorkerStart],
  [new CodeVersionError('download', 'src/tasks.ts', 'host-b-1', 'host-b'), 'CodeVersionError', ErrorCode.CodeVersion],
];

describe('errors', () => {
  it('each class has its name, its own code, and is a WeftError and an Error', () => {
    const codes = new Set<string>();
    for (const [error, name, code] of samples) {
      assert.equal(error.name, name);
      assert.equal(error.code, code);
      assert.ok(error instanceof WeftError, name);
      assert.ok(error instanceof Error, name);
      assert.ok(error.stack?.startsWith(`${name}: `), `${name} stack begins with its name`);
      assert.ok(String(error).startsWith(`${name}: `));
      codes.add(code);
    }
    assert.equal(codes.size, samples.length, 'codes are distinct');
    assert.deepEqual(new Set(Object.values(ErrorCode)), codes, 'every code has a class');
  });

  it('instanceof tells the classes apart', () => {
    for (const [error, name] of samples) {
      for (const [, otherName] of samples) {
        const cls = samples.find(([, n]) => n === otherName)?.[0].constructor as new (...a: never[]) => Error;
        assert.equal(error instanceof cls, name === otherName, `${name} instanceof ${otherName}`);
      }
    }
    assert.ok(!(new Error('plain') instanceof WeftError));
    assert.ok(!((null as unknown) instanceof WeftError));
    assert.ok(!({ code: 'WEFT_CANCELLED' } instanceof CancelledError), 'a look-alike object is not one');
  });

  it('instanceof holds for errors rebuilt from the wire', () => {
    for (const [error, name] of samples) {
      const rebuilt = fromWireError(structuredClone(toWireError(error)));
      assert.ok(rebuilt instanceof WeftError, name);
      assert.ok(rebuilt instanceof (error.constructor as new (...a: never[]) => Error), name);
      assert.equal(rebuilt.name, name);
      assert.equal((rebuilt as WeftError).code, error.code);
      assert.equal(rebuilt.message, error.message);
    }
  });

  it('carries structured fields and a cause', () => {
    const cause = new TypeError('bad input');
    const e = new TaskRunError('download', 'download-3', cause);
    assert.equal(e.cause, cause);
    assert.equal(e.taskName, 'download');
    assert.equal(e.taskRunId, 'download-3');
    // Each layer says its own fact; the cause's message is not quoted (it is printed once, as the cause).
    assert.equal(e.message, "Task run 'download-3' of task 'download' failed");
    assert.equal(new TaskRunError('download', 'download-3', cause, 3).message, "Task run 'download-3' of task 'download' failed on attempt 3");
    const f = new FlowRunError('plumes', 'abc', 'Cancelled', 'a string cause');
    assert.equal(f.state, 'Cancelled');
    assert.equal(f.message, "Flow run 'abc' of flow 'plumes' was cancelled");
    assert.equal(new FlowRunError('plumes', 'abc', 'Failed', e).message, "Flow run 'abc' of flow 'plumes' failed: task run 'download-3' failed");
    assert.doesNotMatch(new FlowRunError('plumes', 'abc', 'Failed', e).message, /bad input/);
    const u = new UpstreamFailedError('render', 'download', 'download-1', 'Crashed', cause);
    assert.deepEqual([u.taskName, u.upstreamTaskName, u.upstreamTaskRunId, u.upstreamState, u.cause], ['render', 'download', 'download-1', 'Crashed', cause]);
    const w = new WorkerCrashedError('t', 'process-2', 'was killed by SIGKILL', 3);
    assert.match(w.message, /worker process-2 was killed by SIGKILL \(3 times\)\. The task itself did not throw/);
    assert.equal(new CancelledError().reason, 'cancelled');
    assert.equal(new SerializationError('args[0]', 'Socket').path, 'args[0]');
  });

  it('messages say what to do', () => {
    assert.match(new TaskNotFoundError('t', 'file:///m.ts', 'x').message, /at the top level of a module/);
    assert.match(new SerializationError('args[1].callback', 'function cb').message, /Cannot send args\[1\]\.callback \(function cb\).*create functions, sockets and handles inside the task instead/);
    assert.match(new ClusterConnectionError('redis://h:1', 'refused').message, /weft cluster up prints the address/);
    assert.match(new TaskTimeoutError('t', 50).message, /raise timeoutMs/);
    assert.equal(new FlowParametersError('report', [{ parameter: 'pages', message: 'expected number.', received: 'abc' }, { parameter: 'date', message: 'required', received: undefined }]).message,
      "Flow 'report' was given invalid parameters: `pages`: expected number (got `\"abc\"` (string)); `date`: required (not given).");
    assert.match(new UnguardedModuleError('report', 'file:///report.ts').message, /while a weft worker imported file:\/\/\/report\.ts to find a task.*if \(isMain\(import\.meta\)\)/);
    assert.match(new SerializationError('args[0]', 'Money', undefined, undefined, 'prototype').message, /it is a `Money`.*serializable\(Money\)/);
    assert.equal(new InvalidOptionError('workers', 'an integer ≥ 1', 0).message, 'Expected `workers` to be an integer ≥ 1, got `0` (number)');
  });

  it('a user subclass of a weft error is still that error', () => {
    class MyCancel extends CancelledError {}
    const e = new MyCancel('mine');
    assert.ok(e instanceof CancelledError);
    assert.ok(e instanceof WeftError);
    assert.ok(e instanceof MyCancel);
    assert.ok(!(new CancelledError('theirs') instanceof MyCancel), "weft's own CancelledError is not an instance of a user's subclass");
    assert.ok(!(new TaskTimeoutError('t', 1) instanceof MyCancel));
  });
});
