/** Reads a report file's embedded payload back, for tests that check what a report holds without a browser. */
import { gunzipSync } from 'node:zlib';
import type { Summary } from '../../src/report/model.ts';

export interface Payload {
  summary: Summary;
  names: string[];
  lanes: Array<{ worker: string; slot: number }>;
  tasks: Array<{ name: string; count: number }>;
}

export function readPayload(html: string): Payload {
  const match = /<script id="weft-data" type="application\/octet-stream">([^<]*)<\/script>/.exec(html);
  if (!match) throw new Error('no payload in this HTML');
  const bytes = gunzipSync(Buffer.from(match[1]!, 'base64'));
  const length = bytes.readUInt32LE(0);
  return JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as Payload;
}
