/**
 * The program of a flow run's report thread (started by src/report/report-thread.ts): it builds
 * the performance report's model a chunk of the event log at a time while the run goes on, on a
 * heap of its own, and writes each attempt's part of the payload once it is final, so at the run's
 * end only the last chunk, the statistics over all attempts and the gzip are left to do.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import type { FromReportThread, ToReportThread } from '../protocol/report-messages.ts';
import { toWireError } from '../protocol/wire-error.ts';
import { payloadHtml } from '../report/html.ts';
import { ReportBuilder } from '../report/model.ts';
import { chunkOver } from '../report/rows.ts';

const parent = parentPort;
if (!parent) throw new Error('src/entry/report is the program of a weft report thread; it is not meant to be run directly.');

const builder = new ReportBuilder({ columns: true });
let failed = false;
const post = (message: FromReportThread) => parent.postMessage(message);

parent.on('message', (message: ToReportThread) => {
  if (failed) return;
  try {
    if (message.type === 'chunk') builder.add(chunkOver(message.buffer, message.length), message.strings);
    else {
      const { model, columns } = builder.payload(message.droppedLogs);
      post({ type: 'html', html: payloadHtml(model, columns) });
    }
  } catch (error) {
    failed = true;
    post({ type: 'failed', error: toWireError(error) });
  }
});
post({ type: 'ready' });
