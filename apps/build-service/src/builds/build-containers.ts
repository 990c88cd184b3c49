import type { Build } from '@paas/contracts/builds';
import { withinTime } from '@paas/platform/docker-engines';
import type { BuildNodes } from '../nodes/build-nodes';
import { buildContainerName } from './pipeline/s2i-roles';

/** An engine that does not answer a removal within this long is left to the leftover sweep (when its node is Ready again). */
export const ENGINE_CALL_TIMEOUT_MS = 10_000;

/**
 * Removes the container of `build` from the node it was placed on, or from every registered
 * node when it names none (a build placed before builds ran on nodes). Throws the first
 * failure once each node has been tried; a node that is gone has nothing to remove.
 */
export async function removeBuildContainer(nodes: Pick<BuildNodes, 'list' | 'engine'>, build: Build): Promise<void> {
  const names = build.status.nodeName ? [build.status.nodeName] : nodes.list().map((node) => node.metadata.name);
  const results = await Promise.allSettled(
    names.map(async (name) => {
      const engine = nodes.engine(name);
      if (engine) await withinTime(engine.runtime.remove(buildContainerName(build)), ENGINE_CALL_TIMEOUT_MS);
    }),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}
