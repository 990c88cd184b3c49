import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aRequestRecord } from '../testing/request-records';
import { AccessLog, accessLogSettings, openAccessLog } from './access-log';
import { BatchedWriter, type ChunkSink } from './batched-writer';

/** A sink that records each write (one write = one system call for a real stream); `full` makes it ask for a drain. */
class RecordingSink extends EventEmitter implements ChunkSink {
  readonly chunks: string[] = [];
  full = false;
  failing = false;

  write(chunk: string): boolean {
    if (this.failing) throw new Error('ENOSPC: no space left on device');
    this.chunks.push(chunk);
    return !this.full;
  }

  get text(): string {
    return this.chunks.join('');
  }
}

const line = (i: number) => `{"i":${i}}\n`;

describe('access log', () => {
  afterEach(() => jest.useRealTimers());

  it('batches lines: nothing is written per line, one write per 64 KiB or per 100 ms', () => {
    jest.useFakeTimers();
    const sink = new RecordingSink();
    const writer = new BatchedWriter(sink);
    const each = line(0).length;
    const perBatch = Math.ceil((64 * 1024) / each);
    for (let i = 0; i < perBatch - 1; i++) writer.write(line(0));
    expect(sink.chunks).toHaveLength(0);
    writer.write(line(0));
    expect(sink.chunks).toHaveLength(1);
    expect(sink.chunks[0].length).toBe(perBatch * each);

    writer.write(line(1));
    writer.write(line(2));
    jest.advanceTimersByTime(99);
    expect(sink.chunks).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sink.chunks).toEqual([expect.any(String), line(1) + line(2)]);
    // No timer is left behind once the batch is written.
    expect(jest.getTimerCount()).toBe(0);
  });

  it('waits for a sink that is behind, keeps order, and drops (and says so) what exceeds the pending limit', () => {
    jest.useFakeTimers();
    const sink = new RecordingSink();
    const writer = new BatchedWriter(sink, { maxBytes: 20, maxPendingBytes: 40, droppedNote: (count) => `dropped ${count}\n` });
    sink.full = true;
    writer.write(line(1) + line(2) + line(3)); // 24 characters: written, then the sink is full
    expect(sink.chunks).toHaveLength(1);
    for (let i = 4; i < 20; i++) writer.write(line(i));
    jest.advanceTimersByTime(1_000);
    expect(sink.chunks).toHaveLength(1);

    sink.full = false;
    sink.emit('drain');
    const text = sink.text;
    const kept = text.match(/"i":\d+/g)?.map((m) => Number(m.slice(4)));
    expect(kept).toEqual([...Array(kept?.length).keys()].map((i) => i + 1));
    expect(writer.dropped).toBe(19 - (kept?.length ?? 0));
    expect(writer.dropped).toBeGreaterThan(0);
    expect(text.indexOf(`dropped ${writer.dropped}\n`)).toBe(line(1).length * 3);
  });

  it('never throws into the request when the sink fails; the lost lines are counted', () => {
    const sink = new RecordingSink();
    const writer = new BatchedWriter(sink, { maxBytes: 10 });
    sink.failing = true;
    expect(() => writer.write(line(1) + line(2))).not.toThrow();
    expect(writer.dropped).toBe(2);
  });

  it('writes one JSON line per request with the fields of the record, client strings escaped', () => {
    const sink = new RecordingSink();
    const log = new AccessLog(new BatchedWriter(sink), () => Date.parse('2026-11-27T10:00:00.123Z'));
    log.observe(aRequestRecord({ host: 'evil"\n.example', path: '/a?b="c"\\\u0001é', durationSeconds: 0.0012345, upstreamError: 'ECONNREFUSED', status: 502 }));
    log.observe(aRequestRecord({ namespace: '', route: '', status: 404, upstream: undefined, tls: true, method: 'POST' }));
    log.writer.flush();
    const lines = sink.text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0])).toEqual({
      time: '2026-11-27T10:00:00.123Z',
      level: 'info',
      service: 'router',
      context: 'access',
      namespace: 'demo',
      route: 'web',
      method: 'GET',
      host: 'evil"\n.example',
      path: '/a?b="c"\\\u0001é',
      status: 502,
      durationUs: 1235,
      clientIp: '127.0.0.1',
      tls: false,
      upstream: '127.0.0.1:40001',
      upstreamError: 'ECONNREFUSED',
    });
    expect(JSON.parse(lines[1])).toMatchObject({ namespace: '', route: '', status: 404, tls: true, method: 'POST' });
    expect(JSON.parse(lines[1])).not.toHaveProperty('upstream');
  });

  it('is off unless ROUTER_ACCESS_LOG=json, goes to ROUTER_ACCESS_LOG_FILE when set, and refuses other values', async () => {
    expect(accessLogSettings({})).toBeUndefined();
    expect(accessLogSettings({ ROUTER_ACCESS_LOG: '' })).toBeUndefined();
    expect(accessLogSettings({ ROUTER_ACCESS_LOG: 'json' })).toEqual({ file: undefined });
    expect(() => accessLogSettings({ ROUTER_ACCESS_LOG: 'yes' })).toThrow('ROUTER_ACCESS_LOG must be "json"');

    const dir = mkdtempSync(path.join(tmpdir(), 'access-log-'));
    try {
      const file = path.join(dir, 'access.log');
      const settings = accessLogSettings({ ROUTER_ACCESS_LOG: 'json', ROUTER_ACCESS_LOG_FILE: file });
      const log = openAccessLog(settings ?? {});
      for (let i = 0; i < 3; i++) log.observe(aRequestRecord({ path: `/${i}` }));
      expect(readFileSync(file, 'utf8')).toBe('');
      await log.close();
      expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).path)).toEqual(['/0', '/1', '/2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
