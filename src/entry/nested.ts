import { installNestedSubmitter } from '../core/nested.ts';
import type { SubmittedResult, WorkerPort } from '../protocol/messages.ts';
import { explain, takeTransferList } from '../protocol/serialize.ts';
import { fromWireError } from '../protocol/wire-error.ts';

/**
 * The worker's end of nested submission: a task here that calls `getClient().submit(...)` sends a
 * `submit` message to the flow's process and waits for the `submitted` answer with its request id.
 * Returns the handler for those answers.
 */
export function serveNestedSubmissions(port: WorkerPort): (message: SubmittedResult) => void {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  installNestedSubmitter((parentTaskRunId, task, args) => new Promise((resolve, reject) => {
    const requestId = nextId++;
    pending.set(requestId, { resolve, reject });
    try {
      port.post({ type: 'submit', requestId, parentTaskRunId, task, args }, takeTransferList(args));
    } catch (error) {
      pending.delete(requestId);
      reject(explain(args, 'args', error));
    }
  }));
  return (message) => {
    const request = pending.get(message.requestId);
    if (!request) return;
    pending.delete(message.requestId);
    if (message.state === 'Completed') request.resolve(message.value);
    else request.reject(fromWireError(message.error));
  };
}
