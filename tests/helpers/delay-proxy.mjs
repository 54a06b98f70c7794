// A delaying TCP proxy, for latency between hosts where the kernel has no `sch_netem`:
//   node delay-proxy.mjs LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
// listens on 127.0.0.1:LISTEN_PORT (inside the host it runs in), forwards each connection to
// TARGET_HOST:TARGET_PORT, and holds every chunk DELAY_MS in each direction, in order: a round
// trip through it takes 2 × DELAY_MS longer. Prints "listening" once ready.
import { createServer, connect } from 'node:net';
import { setTimeout } from 'node:timers';

const [listenPort, targetHost, targetPort, delayText] = process.argv.slice(2);
const delayMs = Number(delayText);

/** Sends `from`'s chunks to `to`, each `delayMs` after it arrived (timers of one delay fire in order). */
function pipeDelayed(from, to) {
  from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), delayMs + 1));
}

const server = createServer((client) => {
  client.setNoDelay(true);
  const upstream = connect(Number(targetPort), targetHost);
  upstream.setNoDelay(true);
  pipeDelayed(client, upstream);
  pipeDelayed(upstream, client);
});
server.listen(Number(listenPort), '127.0.0.1', () => console.log(`listening on 127.0.0.1:${listenPort}, ${delayMs} ms each way to ${targetHost}:${targetPort}`));
process.on('SIGTERM', () => process.exit(0));
