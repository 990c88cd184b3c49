import type { RequestObserver, RequestRecord } from '../data-plane/request-observer';
import { AppendFileSink, BatchedWriter, type BatchOptions, type ChunkSink } from './batched-writer';

/**
 * The access log: one JSON line per finished request, in the shape of the services' JSON
 * logs (`time`, `level`, `service`, `context: "access"`), written in batches. A line is one
 * string concatenation: the strings a client chooses (method, host, path) are escaped when
 * they need it, the ones the router made (route names, addresses) are written as they are;
 * the duration is in whole microseconds (an integer prints far faster than a fraction).
 */
export class AccessLog implements RequestObserver {
  private lastMs = -1;
  private lastTime = '';

  constructor(
    readonly writer: BatchedWriter,
    private readonly now: () => number = Date.now,
    private readonly onClose: () => void = () => undefined,
  ) {}

  observe(record: RequestRecord): void {
    this.writer.write(this.line(record));
  }

  /** One line, newline included. */
  line(record: RequestRecord): string {
    const nowMs = this.now();
    if (nowMs !== this.lastMs) {
      this.lastMs = nowMs;
      this.lastTime = new Date(nowMs).toISOString();
    }
    let line =
      '{"time":"' +
      this.lastTime +
      '","level":"info","service":"router","context":"access","namespace":"' +
      record.namespace +
      '","route":"' +
      record.route +
      '","method":' +
      jsonString(record.method) +
      ',"host":' +
      jsonString(record.host) +
      ',"path":' +
      jsonString(record.path) +
      ',"status":' +
      record.status +
      ',"durationUs":' +
      Math.round(record.durationSeconds * 1e6) +
      ',"clientIp":"' +
      record.clientIp +
      '","tls":' +
      record.tls;
    if (record.upstream !== undefined) line += ',"upstream":"' + record.upstream + '"';
    if (record.upstreamError !== undefined) line += ',"upstreamError":' + jsonString(record.upstreamError);
    return line + '}\n';
  }

  /** Writes what is pending and releases the file, if any. */
  async close(): Promise<void> {
    await this.writer.drain();
    this.onClose();
  }
}

/** Printable ASCII other than a double quote and a backslash needs no escaping; anything else goes through JSON.stringify. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON must escape
const NEEDS_ESCAPING = /["\\\u0000-\u001f\u007f-\uffff]/;

/** `value` as a JSON string: quoted as it is when it can be (the common case, 4x faster). */
function jsonString(value: string): string {
  return NEEDS_ESCAPING.test(value) ? JSON.stringify(value) : '"' + value + '"';
}

export interface AccessLogSettings {
  /** Where lines go: a file to append to, or `process.stdout` when undefined. */
  file?: string;
  batch?: BatchOptions;
}

/**
 * `ROUTER_ACCESS_LOG=json` turns the access log on (off when unset or empty), to stdout or
 * to `ROUTER_ACCESS_LOG_FILE`. Any other value is a configuration error, said at start.
 */
export function accessLogSettings(env: NodeJS.ProcessEnv = process.env): AccessLogSettings | undefined {
  const format = env.ROUTER_ACCESS_LOG ?? '';
  if (format === '' || format === 'off') return undefined;
  if (format !== 'json') throw new Error(`ROUTER_ACCESS_LOG must be "json" (or empty for no access log), not ${JSON.stringify(format)}`);
  return { file: env.ROUTER_ACCESS_LOG_FILE || undefined };
}

/**
 * Opens the access log described by `settings`. Pending lines are written when the process
 * exits; `close()` writes them earlier (and closes the file).
 */
export function openAccessLog(settings: AccessLogSettings, now: () => number = Date.now): AccessLog {
  const file = settings.file ? new AppendFileSink(settings.file) : undefined;
  const sink: ChunkSink = file ?? process.stdout;
  const writer = new BatchedWriter(sink, {
    droppedNote: (count) =>
      `{"time":"${new Date(now()).toISOString()}","level":"warn","service":"router","context":"access","msg":"${count} access log lines dropped: the output fell behind"}\n`,
    ...settings.batch,
  });
  const flushAtExit = () => writer.flush();
  process.once('exit', flushAtExit);
  return new AccessLog(writer, now, () => {
    process.removeListener('exit', flushAtExit);
    file?.close();
  });
}
