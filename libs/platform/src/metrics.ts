/**
 * A small Prometheus registry: counters, gauges read when scraped and histograms, each with
 * labels, rendered in the text exposition format 0.0.4. One registry per process
 * (`processMetrics`) is served on every service's admin port at `/metrics` (metrics.module.ts);
 * the router renders its per-route metrics beside it.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Upper bounds of the duration histograms, in seconds: 1 ms to 60 s. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Labels = Record<string, string>;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',');
}

function braces(text: string): string {
  return text ? `{${text}}` : '';
}

interface Metric {
  readonly name: string;
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`, ...[...this.values].map(([labels, value]) => `${this.name}${braces(labels)} ${value}`)];
  }
}

/** A gauge whose values are read when scraped: one callback per label set. */
export class Gauge implements Metric {
  private readonly sources = new Map<string, () => number>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  /** Reports `read()` under `labels` from now on (a second source for the same labels replaces the first). */
  track(labels: Labels, read: () => number): void {
    this.sources.set(labelText(labels), read);
  }

  render(): string[] {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, ...[...this.sources].map(([labels, read]) => `${this.name}${braces(labels)} ${read()}`)];
  }
}

class HistogramSeries {
  /** Per-bucket (not cumulative) counts; the last slot is above the largest bound. */
  readonly buckets: Float64Array;
  sum = 0;

  constructor(size: number) {
    this.buckets = new Float64Array(size + 1);
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly bounds: readonly number[] = DURATION_BUCKETS,
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = new HistogramSeries(this.bounds.length);
      this.series.set(key, series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]) bucket++;
    series.buckets[bucket]++;
    series.sum += value;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [labels, series] of this.series) {
      const prefix = labels ? `${labels},` : '';
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.buckets[i];
        lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${cumulative}`);
      });
      cumulative += series.buckets[this.bounds.length];
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${cumulative}`, `${this.name}_sum${braces(labels)} ${series.sum}`, `${this.name}_count${braces(labels)} ${cumulative}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help));
  }

  histogram(name: string, help: string, bounds?: readonly number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, bounds));
  }

  /** The text exposition of every metric, in the order they were registered. */
  render(): string {
    return [...[...this.metrics.values()].flatMap((metric) => metric.render()), ''].join('\n');
  }

  /** A metric is registered once by name; asking again returns the same one. */
  private register<M extends Metric>(name: string, make: () => M): M {
    const existing = this.metrics.get(name);
    if (existing) return existing as M;
    const metric = make();
    this.metrics.set(name, metric);
    return metric;
  }
}

/** The registry of this process, served at `/metrics`. */
export const processMetrics = new MetricsRegistry();
