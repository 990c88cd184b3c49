import { Inject, Injectable, Logger } from '@nestjs/common';
import { parentDomain, type Route } from '@paas/contracts/routes';
import { EventBus } from '@paas/platform/events';
import type { RouterConfig } from '../config';
import { ROUTER_CONFIG } from '../runtime.module';
import { RouterState } from '../table/router-state';
import { TableFeed } from '../table/table-feed';
import { AdmitDomain } from './admit-domain.usecase';
import { admissionChanges } from './route-admission';
import { RouteRepository } from './route.repository';

/**
 * Feeds this replica's table with routes: all of them from the database at start and
 * periodically (healing missed events), and the one named by each `route.changed`, which
 * every replica receives. The event only says which route to reload; the database decides.
 * Each resync also re-admits the domains whose stored verdicts are not what admission
 * decides (a race two writers left, or routes stored under older rules).
 */
@Injectable()
export class RouteSync extends TableFeed {
  private readonly logger = new Logger(RouteSync.name);

  constructor(
    private readonly routes: RouteRepository,
    private readonly bus: EventBus,
    private readonly state: RouterState,
    private readonly admitDomain: AdmitDomain,
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
      { everyReplica: true, failFast: true },
    );
  }

  async resync(): Promise<void> {
    const listedAt = Date.now();
    let routes: Route[];
    try {
      routes = await this.routes.list();
      this.state.resyncRoutes(routes, listedAt);
    } catch (error) {
      this.logger.warn({ msg: `cannot reload routes, serving the last known ones: ${(error as Error).message}` });
      return;
    }
    await this.readmitStale(routes);
  }

  private async readmitStale(routes: Route[]): Promise<void> {
    const domains = new Set([...admissionChanges(routes, new Date().toISOString()).keys()].map((route) => parentDomain(route.spec.host)));
    for (const domain of domains) {
      try {
        await this.admitDomain.execute(domain);
      } catch (error) {
        this.logger.warn({ msg: `cannot re-admit the routes of ${domain}: ${(error as Error).message}` });
      }
    }
  }
}
