/** Placeholder until the cluster lands (issue 4): says so instead of pretending. */
export async function clusterCommand(_argv: string[]): Promise<number> {
  console.error('weft cluster: the cluster is not built yet in this version of weft.');
  return 2;
}
