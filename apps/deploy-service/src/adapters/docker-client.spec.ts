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
