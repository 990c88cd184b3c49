import { processMetrics } from '@paas/platform/metrics';
import { FileSnapshotStore } from './adapters/snapshot-file';
import type { RouterConfig } from './config';
import { DataPlane } from './data-plane/data-plane';
import { loadDefaultCertificate } from './data-plane/tls/default-certificate';
import { TlsFrontend } from './data-plane/tls/tls-front';
import { routerObservers, type RouterObservers } from './observability/router-observers';
import { RouterState } from './table/router-state';
import { SnapshotWriter } from './table/snapshot-writer';

/**
 * What the router needs to serve traffic, independent of the control plane: the state
 * (restored from the last snapshot), its snapshot writer, the listening data plane (HTTP,
 * and TLS through the TLS front) and what it reports to (metrics, access log). It starts
 * before NestJS, whose NATS connection waits for a first connect, so a router started
 * while NATS or Mongo are unreachable still serves its last known table.
 */
export class RouterRuntime {
  private constructor(
    readonly config: RouterConfig,
    readonly state: RouterState,
    readonly snapshots: SnapshotWriter,
    readonly observers: RouterObservers,
    private readonly dataPlane: DataPlane,
    private readonly tlsFront: TlsFrontend,
    /** The data plane's bound ports. */
    readonly httpPort: number,
    readonly tlsPort: number,
  ) {}

  static async start(config: RouterConfig, warn: (message: string) => void): Promise<RouterRuntime> {
    const state = new RouterState();
    const store = new FileSnapshotStore(config.snapshotFile, warn);
    const snapshot = store.load();
    if (snapshot) state.restore(snapshot);
    processMetrics.gauge('router_table_routes', 'Admitted routes in the table this replica serves.').track({}, () => state.table.routeCount);
    processMetrics.gauge('router_table_endpoints', 'Endpoints behind the routes of the table, once per route.').track({}, () => state.table.endpointCount);
    const snapshots = new SnapshotWriter(state, store, warn);
    const observers = routerObservers();
    let tlsPort = 0;
    const dataPlane = new DataPlane(state, { observer: observers.observer, tlsPort: () => tlsPort });
    const { tls } = config;
    const tlsFront = new TlsFrontend({
      routes: () => state.table,
      onDecrypted: (socket) => dataPlane.acceptTlsConnection(socket),
      defaultCertificate: await loadDefaultCertificate(tls.defaultCertificate),
      warn,
    });
    const httpPort = await dataPlane.listen(config.httpPort, config.host);
    tlsPort = await tlsFront.listen(tls.port, config.host);
    return new RouterRuntime(config, state, snapshots, observers, dataPlane, tlsFront, httpPort, tlsPort);
  }

  async close(): Promise<void> {
    await this.tlsFront.close();
    await this.dataPlane.close();
    await Promise.all([this.snapshots.flush(), this.observers.close()]);
  }
}
