import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DockerFrameDemuxer, outputSink, type DemuxedFrame } from './docker-client';

function frame(type: number, text: string | Buffer): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function demux(chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  await pipeline(PassThrough.from(chunks), new DockerFrameDemuxer(), outputSink(async (chunk) => void out.push(chunk)));
  return Buffer.concat(out).toString();
}

describe('DockerFrameDemuxer', () => {
  it('joins stdout and stderr payloads, whatever the chunking', async () => {
    const bytes = Buffer.concat([frame(1, 'out ✓\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'end\n')]);
    expect(await demux([bytes])).toBe('out ✓\nerr\nend\n');
    expect(await demux([...bytes].map((byte) => Buffer.from([byte])))).toBe('out ✓\nerr\nend\n');
  });

  it('keeps stdout apart from stderr when asked (a tar on stdout, messages on stderr)', async () => {
    const [stdout, other]: Buffer[][] = [[], []];
    const bytes = Buffer.concat([frame(1, 'tar-'), frame(2, 'saving\n'), frame(1, 'bytes')]);
    const sink = outputSink(async ({ stdout: isStdout, payload }: DemuxedFrame) => void (isStdout ? stdout : other).push(payload), true);
    await pipeline(PassThrough.from([...bytes].map((byte) => Buffer.from([byte]))), new DockerFrameDemuxer({ stdoutApart: true }), sink);
    expect(Buffer.concat(stdout).toString()).toBe('tar-bytes');
    expect(Buffer.concat(other).toString()).toBe('saving\n');
  });

  it('passes a stream that is not multiplexed through as it is', async () => {
    expect(await demux([Buffer.from('plain tty output\n')])).toBe('plain tty output\n');
  });
});

describe('outputSink', () => {
  it('reads no more of the container output while the log is busy', async () => {
    const source = new PassThrough();
    let release!: () => void;
    const handed: Buffer[] = [];
    const output = pipeline(
      source,
      new DockerFrameDemuxer(),
      outputSink((chunk) => {
        handed.push(chunk);
        return handed.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      }),
    );
    const chunk = frame(1, Buffer.alloc(64 * 1024, 'x'));
    let accepted = 0;
    while (source.write(chunk) && accepted < 1000) accepted++;

    await new Promise((resolve) => setImmediate(resolve));
    expect(accepted).toBeLessThan(10); // the source was told to wait, not buffered without end
    expect(handed).toHaveLength(1);

    release();
    source.end();
    await output;
    expect(Buffer.concat(handed).length).toBe((accepted + 1) * 64 * 1024);
  });
});
