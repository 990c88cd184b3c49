import { FileSnapshotStore } from './adapters/snapshot-file';
import type { RouterConfig } from './config';
import { DataPlane } from './data-plane/data-plane';
import { RouterState } from './table/router-state';
import { SnapshotWriter } from './table/snapshot-writer';

/**
 * What the router needs to serve traffic, independent of the control plane: the state
 * (restored from the last snapshot), its snapshot writer and the listening data plane.
 * It starts before NestJS, whose NATS connection waits for a first connect, so a router
 * started while NATS or Mongo are unreachable still serves its last known table.
 */
export class RouterRuntime {
  private constructor(
    readonly config: RouterConfig,
    readonly state: RouterState,
    readonly snapshots: SnapshotWriter,
    private readonly dataPlane: DataPlane,
    /** The data plane's bound port. */
    readonly httpPort: number,
  ) {}

  static async start(config: RouterConfig, warn: (message: string) => void): Promise<RouterRuntime> {
    const state = new RouterState();
    const store = new FileSnapshotStore(config.snapshotFile, warn);
    const snapshot = store.load();
    if (snapshot) state.restore(snapshot);
    const snapshots = new SnapshotWriter(state, store, warn);
    const dataPlane = new DataPlane(state, { tlsPort: config.tlsPort });
    const port = await dataPlane.listen(config.httpPort, config.host);
    return new RouterRuntime(config, state, snapshots, dataPlane, port);
  }

  async close(): Promise<void> {
    await this.dataPlane.close();
    await this.snapshots.flush();
  }
}
