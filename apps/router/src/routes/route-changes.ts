import { Injectable, Logger } from '@nestjs/common';
import type { Route } from '@paas/contracts/routes';
import { EventBus } from '@paas/platform/events';
import { RouterState } from '../table/router-state';

/**
 * Tells every router replica that a route changed: this replica's table at once, the
 * others through `route.changed` (they reload the route from the database). A failed
 * publish is logged, not thrown: the route is stored, and the periodic resync heals.
 */
@Injectable()
export class RouteChanges {
  private readonly logger = new Logger(RouteChanges.name);

  constructor(
    private readonly bus: EventBus,
    private readonly state: RouterState,
  ) {}

  async changed(route: Route): Promise<void> {
    this.state.upsertRoute(route);
    await this.publish(route, false);
  }

  async deleted(route: Route): Promise<void> {
    this.state.removeRoute(route.metadata.namespace, route.metadata.name);
    await this.publish(route, true);
  }

  private async publish(route: Route, deleted: boolean): Promise<void> {
    const { namespace, name, generation } = route.metadata;
    try {
      await this.bus.publish('route.changed', { namespace, name, generation, deleted });
    } catch (error) {
      this.logger.warn({ msg: `route.changed for ${namespace}/${name} not published: ${(error as Error).message}` });
    }
  }
}
