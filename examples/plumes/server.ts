/**
 * A stand-in for a remote image archive: serves one small PNG per month at
 * `/plumes/<year>/<month>.png`, each response delayed like a slow real server. Offline, no files.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

export interface ImageServer {
  readonly url: string;
  readonly requests: number;
  /** The most requests this server was answering at one time since the last reset. */
  readonly maxInFlight: number;
  resetStats(): void;
  close(): Promise<void>;
}

export async function startImageServer(options: { delayMs: number }): Promise<ImageServer> {
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server: Server = createServer((req, res) => {
    const match = /^\/plumes\/(\d{4})\/(\d{1,2})\.png$/.exec(req.url ?? '');
    if (!match) {
      res.writeHead(404).end('not found');
      return;
    }
    requests++;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    const [, year, month] = match;
    setTimeout(() => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'image/png' }).end(plumePng(Number(year), Number(month)));
    }, options.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    resetStats() {
      requests = 0;
      maxInFlight = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A 64x64 grayscale PNG: a "plume" whose size follows the month. */
export function plumePng(year: number, month: number, size = 64): Buffer {
  const rows: Buffer[] = [];
  const radius = 6 + ((month * 7 + year) % 20);
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(size + 1); // filter byte 0, then one byte per pixel
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - size / 2, y - size / 2);
      row[x + 1] = d < radius ? 255 - Math.round((d / radius) * 200) : 20;
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let c = 0xffffffff;
  for (const byte of data) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
