import { getEventListeners } from 'node:events';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { demuxFrames, DockerodeClient } from './docker-client';

/** dockerode as far as `containerEvents` uses it: every call opens a new events stream. */
function engine() {
  return new DockerodeClient({ getEvents: async () => new PassThrough() } as unknown as Docker);
}

async function closed(stream: PassThrough) {
  await new Promise((resolve) => stream.once('close', resolve));
}

describe('DockerodeClient.containerEvents', () => {
  it('leaves no abort listener behind once a stream closes, however often the watcher reconnects', async () => {
    const lifetime = new AbortController();
    for (let reconnect = 0; reconnect < 20; reconnect++) {
      const stream = (await engine().containerEvents([], lifetime.signal)) as PassThrough;
      stream.destroy(new Error('engine restarted'));
      stream.on('error', () => undefined);
      await closed(stream);
    }
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  });

  it('still destroys an open stream when the service stops', async () => {
    const lifetime = new AbortController();
    const stream = (await engine().containerEvents([], lifetime.signal)) as PassThrough;
    lifetime.abort();
    await closed(stream);
    expect(stream.destroyed).toBe(true);
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  });
});

describe('demuxFrames', () => {
  const frame = (stream: number, text: string) => {
    const payload = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
  };

  it("joins stdout and stderr frames in order, without the engine's headers", () => {
    expect(demuxFrames(Buffer.concat([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n')]))).toBe('one\ntwo\nthree\n');
  });

  it('returns output that is not framed (a TTY) as it is', () => {
    expect(demuxFrames(Buffer.from('plain output\n'))).toBe('plain output\n');
  });
});

describe('DockerodeClient.removeImage', () => {
  /** dockerode as far as `removeImage` uses it: each removal fails with `statusCode`, or succeeds without one. */
  function engineAnswering(statusCode?: number) {
    const asked: unknown[] = [];
    const docker = {
      getImage: (reference: string) => ({
        remove: async (options: unknown) => {
          asked.push([reference, options]);
          if (statusCode) throw Object.assign(new Error(`engine answered ${statusCode}`), { statusCode });
          return [{ Deleted: reference }];
        },
      }),
    } as unknown as Docker;
    return { client: new DockerodeClient(docker), asked };
  }

  it('never forces a removal nor prunes the parents, and reads a conflict as in use and a 404 as absent', async () => {
    const removed = engineAnswering();
    expect(await removed.client.removeImage('sha256:a')).toBe('removed');
    expect(removed.asked).toEqual([['sha256:a', { force: false, noprune: true }]]);
    expect(await engineAnswering(409).client.removeImage('sha256:a')).toBe('in-use');
    expect(await engineAnswering(404).client.removeImage('sha256:a')).toBe('absent');
    await expect(engineAnswering(500).client.removeImage('sha256:a')).rejects.toThrow('engine answered 500');
  });
});
