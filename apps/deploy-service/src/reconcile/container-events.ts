import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { belongsToInstance } from '@paas/platform/config';
import { MANAGED_BY, RUNTIME_LABELS } from '../adapters/container-runtime';
import type { DockerClient } from '../adapters/docker-client';
import { DOCKER_CLIENT } from '../adapters/runtime.tokens';
import { ReconcileQueues } from './reconcile-queues';

const EVENTS_RECONNECT_MS = 2_000;

/** A pod container that dies has its RC reconciled at once, not at the next resync. */
@Injectable()
export class ContainerEventWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ContainerEventWatcher.name);
  private readonly events = new AbortController();

  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(DOCKER_CLIENT) private readonly docker: DockerClient,
  ) {}

  onApplicationBootstrap() {
    void this.watchContainerEvents();
  }

  onApplicationShutdown() {
    this.events.abort();
  }

  private async watchContainerEvents(): Promise<void> {
    while (!this.events.signal.aborted) {
      try {
        const stream = await this.docker.containerEvents([`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`], this.events.signal);
        let buffer = '';
        for await (const chunk of stream) {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines.filter(Boolean)) this.onContainerEvent(JSON.parse(line));
        }
      } catch (error) {
        if (!this.events.signal.aborted) this.logger.warn({ msg: `docker events stopped: ${(error as Error).message}; reconnecting` });
      }
      if (!this.events.signal.aborted) await new Promise((resolve) => setTimeout(resolve, EVENTS_RECONNECT_MS).unref());
    }
  }

  private onContainerEvent(event: { status?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } }) {
    const action = event.Action ?? event.status;
    const attributes = event.Actor?.Attributes ?? {};
    const namespace = attributes[RUNTIME_LABELS.namespace];
    const rc = attributes[RUNTIME_LABELS.rc];
    if ((action === 'die' || action === 'destroy') && namespace && rc && belongsToInstance(attributes)) this.queues.replicationController(namespace, rc);
  }
}
