import { CREATE_CONTAINER_CONFIG_ERROR } from '@paas/contracts/config';
import { CRASH_LOOP_BACK_OFF, type ContainerState, type ContainerTermination, type Pod } from '@paas/contracts/deployments';
import type { RuntimeContainer } from '../adapters/container-runtime';
import { isReady } from './pod-state';

/** A pod's reasons that mean its container is not running until they clear. */
const WAITING_REASONS: readonly string[] = [CRASH_LOOP_BACK_OFF, 'ErrImagePull', CREATE_CONTAINER_CONFIG_ERROR, 'ContainerCreateError'];

/**
 * A pod as the API answers it: with Kubernetes' `containerStatuses`, made from what is stored
 * (phase, reason, container id, start, restarts, the last termination), so that `kubectl get
 * pods` and `describe` have their STATUS and Last State. A pod no node has taken yet has none,
 * as in Kubernetes.
 */
export function podView(pod: Pod): Pod {
  const [container] = pod.spec.containers;
  if (!pod.spec.nodeName || !container) return pod;
  const { status } = pod;
  const waiting = status.reason && WAITING_REASONS.includes(status.reason) ? { reason: status.reason, ...(status.message ? { message: status.message } : {}) } : status.phase === 'Pending' ? { reason: 'ContainerCreating' } : undefined;
  const state: ContainerState = waiting ? { waiting } : { running: { startedAt: status.startTime ?? '' } };
  const containerStatus = {
    name: container.name,
    image: container.image,
    ...(status.containerID ? { containerID: `docker://${status.containerID}` } : {}),
    ready: isReady(pod),
    started: !waiting,
    restartCount: status.restartCount,
    state,
    lastState: status.lastTermination ? { terminated: status.lastTermination } : {},
  };
  return { ...pod, status: { ...status, containerStatuses: [containerStatus] } };
}

/** How a stopped container's run ended, from its inspection. */
export function terminationOf(container: RuntimeContainer): ContainerTermination {
  const exitCode = container.exitCode ?? -1;
  return {
    exitCode,
    reason: container.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
    ...(container.startedAt && !container.startedAt.startsWith('0001') ? { startedAt: container.startedAt } : {}),
    ...(container.finishedAt ? { finishedAt: container.finishedAt } : {}),
    containerID: `docker://${container.id}`,
  };
}
