/** Placeholder until the cluster lands (issue 4): says so instead of pretending. */
export async function workerCommand(_argv: string[]): Promise<number> {
  console.error('weft worker: the cluster is not built yet in this version of weft.');
  return 2;
}
