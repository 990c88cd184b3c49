import { Logger } from '@nestjs/common';
import type { NatsConnection, StreamConfig } from 'nats';
import { busNames } from './bus-names';
import { SettingError } from './bus-settings';
import { setUpEventStream } from './event-stream';

const names = busNames('t');

/** NATS as setUpEventStream sees it: the server's INFO and a stream manager over `stored`. */
function fakeNats(options: { cluster?: string; servers?: number; stored?: Partial<StreamConfig>; refuse?: { err_code: number; description: string } }) {
  let stored = options.stored;
  const calls: string[] = [];
  const apiError = (error: { code: number; err_code: number; description: string }) => Object.assign(new Error(error.description), { api_error: error });
  const keep = (config: Partial<StreamConfig>) => {
    if (options.refuse) throw apiError({ code: 400, ...options.refuse });
    stored = config;
    return { config };
  };
  const streams = {
    info: async () => {
      if (!stored) throw apiError({ code: 404, err_code: 10059, description: 'stream not found' });
      return { config: stored };
    },
    add: async (config: Partial<StreamConfig>) => (calls.push(`add R${config.num_replicas}`), keep(config)),
    update: async (_name: string, config: Partial<StreamConfig>) => (calls.push(`update R${config.num_replicas}`), keep(config)),
  };
  const nats = {
    info: { cluster: options.cluster, connect_urls: Array.from({ length: options.servers ?? 1 }, (_, i) => `127.0.0.1:${4222 + i}`) },
    getServer: () => '127.0.0.1:4222',
    jetstreamManager: async () => ({ streams }),
  } as unknown as NatsConnection;
  return { nats, calls };
}

const logger = new Logger('test');
beforeAll(() => Logger.overrideLogger(false));

describe('setUpEventStream', () => {
  it('creates a missing stream on the servers asked for, one when not asked', async () => {
    const three = fakeNats({ cluster: 'paas', servers: 3 });
    await expect(setUpEventStream(three.nats, names, 3, logger)).resolves.toBe(3);
    const one = fakeNats({});
    await expect(setUpEventStream(one.nats, names, undefined, logger)).resolves.toBe(1);
    expect([three.calls, one.calls]).toEqual([['add R3'], ['add R1']]);
  });

  it('moves an existing stream to the count asked for, and leaves it alone when none is asked', async () => {
    const asked = fakeNats({ cluster: 'paas', servers: 3, stored: { name: names.stream, num_replicas: 1 } });
    await expect(setUpEventStream(asked.nats, names, 3, logger)).resolves.toBe(3);
    expect(asked.calls).toEqual(['update R3']);
    const unasked = fakeNats({ cluster: 'paas', servers: 3, stored: { name: names.stream, num_replicas: 3 } });
    await expect(setUpEventStream(unasked.nats, names, undefined, logger)).resolves.toBe(3);
    expect(unasked.calls).toEqual([]);
  });

  it('refuses replicas on a single server, which would accept them with nothing behind', async () => {
    const { nats, calls } = fakeNats({ stored: { name: names.stream, num_replicas: 1 } });
    await expect(setUpEventStream(nats, names, 3, logger)).rejects.toThrow(
      new SettingError(
        'PAAS_STREAM_REPLICAS=3, but NATS at 127.0.0.1:4222 is a single server, not a cluster: keeping the event stream on 3 servers needs a JetStream cluster of at least 3 ' +
          '(npm run up -- --nats-cluster); set PAAS_STREAM_REPLICAS=1 or leave it unset for one server',
      ),
    );
    expect(calls).toEqual([]);
  });

  it('says what to do when the cluster cannot place the replicas', async () => {
    const { nats } = fakeNats({ cluster: 'paas', servers: 2, stored: { name: names.stream, num_replicas: 1 }, refuse: { err_code: 10005, description: 'no suitable peers for placement, peer offline' } });
    await expect(setUpEventStream(nats, names, 3, logger)).rejects.toThrow(
      new SettingError(
        `PAAS_STREAM_REPLICAS=3: the NATS cluster "paas" cannot keep the event stream ${names.stream} on 3 servers (it is kept on 1 now): ` +
          'no suitable peers for placement, peer offline; 2 of its servers answer now. Run (or bring back) at least 3, or lower PAAS_STREAM_REPLICAS',
      ),
    );
  });

  it('passes other failures on as they are, to be tried again', async () => {
    const { nats } = fakeNats({ cluster: 'paas', servers: 3, refuse: { err_code: 10008, description: 'JetStream system temporarily unavailable' } });
    const failure = await setUpEventStream(nats, names, 3, logger).catch((error: unknown) => error);
    expect(failure).not.toBeInstanceOf(SettingError);
    expect(failure).toMatchObject({ message: 'JetStream system temporarily unavailable' });
  });
});
