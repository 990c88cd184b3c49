import { Inject, Injectable, Logger } from '@nestjs/common';
import { EventBus } from '@paas/platform/events';
import type { RouterConfig } from '../config';
import { ROUTER_CONFIG } from '../runtime.module';
import { RouterState } from '../table/router-state';
import { TableFeed } from '../table/table-feed';
import { RouteRepository } from './route.repository';

/**
 * Feeds this replica's table with routes: all of them from the database at start and
 * periodically (healing missed events), and the one named by each `route.changed`, which
 * every replica receives. The event only says which route to reload; the database decides.
 */
@Injectable()
export class RouteSync extends TableFeed {
  private readonly logger = new Logger(RouteSync.name);

  constructor(
    private readonly routes: RouteRepository,
    private readonly bus: EventBus,
    private readonly state: RouterState,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    super(config.resyncIntervalMs);
  }

  protected async subscribe() {
    await this.bus.subscribe(
      'route.changed',
      async ({ data: { namespace, name } }) => {
        const route = await this.routes.find(namespace, name);
        if (route) this.state.upsertRoute(route);
        else this.state.removeRoute(namespace, name);
      },
      { everyReplica: true },
    );
  }

  async resync(): Promise<void> {
    const listedAt = Date.now();
    try {
      this.state.resyncRoutes(await this.routes.list(), listedAt);
    } catch (error) {
      this.logger.warn({ msg: `cannot reload routes, serving the last known ones: ${(error as Error).message}` });
    }
  }
}
