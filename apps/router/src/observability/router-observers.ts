import type { RequestObserver, RequestRecord } from '../data-plane/request-observer';
import { accessLogSettings, openAccessLog, type AccessLog } from './access-log';
import { RouterMetrics } from './router-metrics';

/** An observer that also wants to know when a matched request goes upstream (in-flight gauges). */
export interface StartedObserver extends RequestObserver {
  started(namespace: string, route: string): void;
}

/** Tells every observer of every request, in order. */
export class CompositeObserver implements StartedObserver {
  private readonly starters: StartedObserver[];

  constructor(private readonly observers: readonly RequestObserver[]) {
    this.starters = observers.filter((o): o is StartedObserver => typeof (o as Partial<StartedObserver>).started === 'function');
  }

  started(namespace: string, route: string): void {
    for (let i = 0; i < this.starters.length; i++) this.starters[i].started(namespace, route);
  }

  observe(record: RequestRecord): void {
    for (let i = 0; i < this.observers.length; i++) this.observers[i].observe(record);
  }
}

/** What the data plane reports to: always the metrics, and the access log when it is on. */
export interface RouterObservers {
  metrics: RouterMetrics;
  accessLog?: AccessLog;
  /** The one observer to hand the data plane. */
  observer: StartedObserver;
  /** Writes out what the access log holds. */
  close(): Promise<void>;
}

export function routerObservers(env: NodeJS.ProcessEnv = process.env): RouterObservers {
  const metrics = new RouterMetrics();
  const settings = accessLogSettings(env);
  const accessLog = settings ? openAccessLog(settings) : undefined;
  return {
    metrics,
    accessLog,
    // Without an access log the metrics are the observer: no fan-out on the hot path.
    observer: accessLog ? new CompositeObserver([metrics, accessLog]) : metrics,
    close: async () => accessLog?.close(),
  };
}
