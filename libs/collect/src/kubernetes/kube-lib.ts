/**
 * @kubernetes/client-node, loaded on first use. It costs ~60 MiB of RSS at load, which every worker
 * would pay for at start although most never run a Kubernetes collector (docs/BENCHMARKS.md, memory).
 * Entry points (`loadClusterConfig`) await `loadKubeLib()`; code that runs after them uses `kubeLib()`.
 */
export type KubeLib = typeof import('@kubernetes/client-node');

let lib: KubeLib | undefined;

export async function loadKubeLib(): Promise<KubeLib> {
  lib ??= await import('@kubernetes/client-node');
  return lib;
}

export function kubeLib(): KubeLib {
  if (!lib) throw new Error('@kubernetes/client-node is not loaded yet: await loadKubeLib() first');
  return lib;
}
