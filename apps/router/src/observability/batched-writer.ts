import { closeSync, openSync, writeSync } from 'node:fs';

/** Where batches go: a stream (`process.stdout`) or a file; `write` false means wait for `drain`. */
export interface ChunkSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface BatchOptions {
  /** A batch is written once it holds this many characters... */
  maxBytes?: number;
  /** ...or this long after its first line. */
  maxDelayMs?: number;
  /** While the sink is behind, lines past this much pending text are dropped (and counted). */
  maxPendingBytes?: number;
  /** The line written once the sink caught up after dropping `count` lines. */
  droppedNote?: (count: number) => string;
}

const DEFAULTS = { maxBytes: 64 * 1024, maxDelayMs: 100, maxPendingBytes: 4 * 1024 * 1024 };

/**
 * Collects lines and hands them to the sink in batches (64 KiB or every 100 ms by
 * default), so that a line costs a string append, not a system call. A sink that falls
 * behind never makes memory grow without bound: lines beyond `maxPendingBytes` are dropped
 * and counted. A failing sink (disk full) never throws into the caller.
 */
export class BatchedWriter {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private waitingForDrain = false;
  private droppedSinceNote = 0;
  private readonly maxBytes: number;
  private readonly maxDelayMs: number;
  private readonly maxPendingBytes: number;
  /** Lines dropped since the start (sink behind or failing). */
  dropped = 0;
  /** Batches handed to the sink since the start. */
  batches = 0;

  constructor(
    private readonly sink: ChunkSink,
    private readonly options: BatchOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULTS.maxDelayMs;
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULTS.maxPendingBytes;
  }

  /** Queues one line (with its newline). */
  write(line: string): void {
    if (this.pending.length + line.length > this.maxPendingBytes) {
      this.drop(1);
      return;
    }
    this.pending += line;
    if (this.pending.length >= this.maxBytes) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.maxDelayMs);
      this.timer.unref();
    }
  }

  /** Hands what is pending to the sink now (unless it is still draining the last batch). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.waitingForDrain || this.pending.length === 0) return;
    let chunk = this.pending;
    this.pending = '';
    if (this.droppedSinceNote > 0 && this.options.droppedNote) {
      chunk = this.options.droppedNote(this.droppedSinceNote) + chunk;
      this.droppedSinceNote = 0;
    }
    this.batches++;
    try {
      if (!this.sink.write(chunk)) {
        this.waitingForDrain = true;
        this.sink.once('drain', this.onDrain);
      }
    } catch {
      this.drop(countLines(chunk));
    }
  }

  /** Flushes, then resolves once the sink took everything. */
  async drain(): Promise<void> {
    this.flush();
    while (this.waitingForDrain) await new Promise<void>((resolve) => this.sink.once('drain', () => setImmediate(resolve)));
    this.flush();
  }

  private readonly onTimer = () => {
    this.timer = undefined;
    this.flush();
  };

  private readonly onDrain = () => {
    this.waitingForDrain = false;
    this.flush();
  };

  private drop(lines: number): void {
    this.dropped += lines;
    this.droppedSinceNote += lines;
  }
}

function countLines(chunk: string): number {
  let lines = 0;
  for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
  return lines;
}

/**
 * A file opened for appending, written synchronously: batches are rare (at most one per
 * 100 ms or 64 KiB), writes keep their order, and what is pending can be written at exit.
 */
export class AppendFileSink implements ChunkSink {
  private fd: number | undefined;

  constructor(file: string) {
    this.fd = openSync(file, 'a');
  }

  write(chunk: string): boolean {
    if (this.fd === undefined) throw new Error('access log file closed');
    const bytes = Buffer.from(chunk, 'utf8');
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    return true;
  }

  once(): this {
    return this;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
