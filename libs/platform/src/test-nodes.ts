import { DRAIN_ANNOTATION, NODE_SCOPE, type Node } from '@paas/contracts/nodes';

let nodeVersions = 0;

/**
 * For unit tests of whatever drives nodes (the deploy-service's pods, the build-service's
 * builds): a registered Node, Ready unless told otherwise, with room for 8 GiB; each call a
 * newer version of it. `local` is the host's engine (its socket, loopback, the registry on
 * loopback); any other name an engine over TLS at 10.250.<length of its name>.2.
 */
export function aNode(name: string, options: { ready?: boolean; unschedulable?: boolean; draining?: boolean; memoryBytes?: number } = {}): Node {
  const capacity = { memoryBytes: options.memoryBytes ?? 8 * 1024 ** 3, cpuMillis: 2000, pods: 110 };
  const ready = options.ready === false ? { status: 'False' as const, reason: 'NodeNotReady', message: 'the Docker engine has not answered' } : { status: 'True' as const };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      namespace: NODE_SCOPE,
      uid: `uid-node-${name}`,
      resourceVersion: String(++nodeVersions),
      generation: 1,
      creationTimestamp: '2030-01-01T00:00:00Z',
      annotations: options.draining ? { [DRAIN_ANNOTATION]: 'true' } : {},
    },
    spec: {
      engine: name === 'local' ? { url: 'unix:///var/run/docker.sock' } : { url: `tcp://10.250.${name.length}.2:2376`, tlsDir: `/secrets/${name}` },
      hostIP: name === 'local' ? '127.0.0.1' : `10.250.${name.length}.2`,
      registryHost: name === 'local' ? '127.0.0.1:5000' : `10.250.${name.length}.1:5000`,
      unschedulable: options.unschedulable ?? false,
    },
    status: {
      capacity,
      allocatable: capacity,
      conditions: [{ type: 'Ready', ...ready, lastTransitionTime: '2030-01-01T00:00:00Z' }],
    },
  };
}
