import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventBus, HandledElsewhereError } from '@paas/platform/events';
import { BuildController } from './build-controller';
import { RemoveBuildLeftovers } from './remove-leftovers.usecase';

/**
 * `build.requested` (durable, shared by replicas) only enqueues the build's key with the
 * replica that owns its namespace; another hands it back. The Build's own change reaches that
 * replica too: the event is the path that survives a replica that misses the change. Before
 * that, on start-up, what finished builds left behind is removed (and on each node as it turns Ready).
 */
@Injectable()
export class BuildRequestedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(BuildRequestedHandler.name);

  constructor(
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(BuildController) private readonly controller: BuildController,
    @Inject(RemoveBuildLeftovers) private readonly leftovers: RemoveBuildLeftovers,
  ) {}

  async onApplicationBootstrap() {
    this.leftovers.watchNodes();
    await this.leftovers.execute().catch((error: Error) => this.logger.error({ msg: `removing build leftovers failed: ${error.message}` }));
    await this.events.subscribe('build.requested', async ({ data }) => {
      if (!this.controller.owns(data.namespace)) throw new HandledElsewhereError(`namespace ${data.namespace} is worked by another replica`);
      this.controller.enqueue(data.namespace, data.name);
    });
  }
}
