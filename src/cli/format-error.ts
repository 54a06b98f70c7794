import { fileURLToPath } from 'node:url';

/**
 * An error as `weft run` prints it: the chain of messages once, outermost first (each layer says
 * its own fact: the flow run, the task run, then the task's own error), and one stack, the
 * innermost error's, with the user's frames first and weft's own frames collapsed into one line.
 */
export function formatError(error: unknown): string {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && chain.length < 8 && !chain.includes(e); e = e instanceof Error ? e.cause : undefined) chain.push(e);
  const lines = chain.map((e, i) => `${i === 0 ? '' : '  caused by '}${e instanceof Error ? headline(e) : String(e)}`);
  const innermost = [...chain].reverse().find((e): e is Error => e instanceof Error);
  if (innermost?.stack) lines.push(...frames(innermost.stack).map((f) => `      ${f}`));
  return lines.join('\n');
}

/** `Name: message`, as a stack's first line says it, without repeating the name weft errors carry in both. */
function headline(error: Error): string {
  return error.message ? `${error.name}: ${error.message}` : error.name;
}

/** weft's own code: its sources or build, and the TypeScript loader. Node's internals count too. */
const WEFT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
function isInternal(frame: string): boolean {
  return frame.includes('node:internal') || frame.includes(`${WEFT_ROOT}src/`) || frame.includes(`${WEFT_ROOT}dist/`) ||
    frame.includes('/node_modules/tsx/') || /\(node:|at node:/.test(frame);
}

/** The stack's frames: the user's as they are, each run of internal ones as one line. */
function frames(stack: string): string[] {
  const all = stack.split('\n').filter((line) => /^\s+at /.test(line)).map((line) => line.trim());
  const out: string[] = [];
  let hidden = 0;
  const flush = () => {
    if (hidden > 0) out.push(`... ${hidden} frame${hidden === 1 ? '' : 's'} of weft and Node`);
    hidden = 0;
  };
  for (const frame of all) {
    if (isInternal(frame)) hidden++;
    else {
      flush();
      out.push(frame);
    }
  }
  flush();
  return out;
}
