import type { Logger } from '@nestjs/common';
import { nanos, StorageType, type NatsConnection, type NatsError, type StreamConfig } from 'nats';
import type { BusNames } from './bus-names';
import { SettingError } from './bus-settings';

/** JetStream API errors: stream or consumer not found; placement refused (too few servers answer). */
const NOT_FOUND = [10059, 10014];
const NO_PLACEMENT = 10005;

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.includes((error as NatsError).api_error?.err_code ?? 0);
}

/**
 * The event stream of one bus, set up as `wanted` (PAAS_STREAM_REPLICAS, see bus-settings.ts)
 * says: created on that many servers (1 when unset), or an existing one moved to that count
 * when it is set and differs (JetStream re-replicates it in place; a stream left as it is
 * when unset, so that a service started by hand never shrinks the platform's). Answers the
 * number of servers that keep it. A count NATS cannot keep is a SettingError that says why.
 */
export async function setUpEventStream(nats: NatsConnection, names: BusNames, wanted: number | undefined, logger: Logger): Promise<number> {
  if (wanted !== undefined && wanted > 1 && !nats.info?.cluster) {
    // A single 2.9 server even accepts such an update and reports it, with nothing behind it.
    throw new SettingError(
      `PAAS_STREAM_REPLICAS=${wanted}, but NATS at ${nats.getServer()} is a single server, not a cluster: keeping the event stream on ${wanted} servers ` +
        `needs a JetStream cluster of at least ${wanted} (npm run up -- --nats-cluster); set PAAS_STREAM_REPLICAS=1 or leave it unset for one server`,
    );
  }
  const jsm = await nats.jetstreamManager();
  const existing = await jsm.streams.info(names.stream).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (!existing) {
    const created = await jsm.streams.add({ ...streamConfig(names), num_replicas: wanted ?? 1 }).catch((error: unknown) => {
      throw placementProblem(nats, names, error, wanted ?? 1);
    });
    return created.config.num_replicas;
  }
  const current = existing.config.num_replicas;
  if (wanted === undefined || wanted === current) return current;
  const updated = await jsm.streams.update(names.stream, { ...existing.config, num_replicas: wanted }).catch((error: unknown) => {
    throw placementProblem(nats, names, error, wanted, current);
  });
  logger.warn({ msg: `the event stream ${names.stream} was kept on ${current} server(s); now on ${wanted}, as PAAS_STREAM_REPLICAS asks` });
  return updated.config.num_replicas;
}

function streamConfig(names: BusNames): Partial<StreamConfig> & Pick<StreamConfig, 'name'> {
  return {
    name: names.stream,
    subjects: [names.streamSubjects],
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600 * 1000),
    duplicate_window: nanos(2 * 60 * 1000),
  };
}

/** A refused placement as a SettingError that says what to do; any other error as it is. */
function placementProblem(nats: NatsConnection, names: BusNames, error: unknown, wanted: number, current?: number): unknown {
  if ((error as NatsError).api_error?.err_code !== NO_PLACEMENT) return error;
  const answering = nats.info?.connect_urls?.length ?? 1;
  const was = current === undefined ? '' : ` (it is kept on ${current} now)`;
  return new SettingError(
    `PAAS_STREAM_REPLICAS=${wanted}: the NATS cluster "${nats.info?.cluster}" cannot keep the event stream ${names.stream} on ${wanted} servers${was}: ` +
      `${(error as NatsError).api_error?.description}; ${answering} of its servers answer now. Run (or bring back) at least ${wanted}, or lower PAAS_STREAM_REPLICAS`,
  );
}
