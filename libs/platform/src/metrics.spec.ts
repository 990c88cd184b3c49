import { MetricsRegistry } from './metrics';

describe('MetricsRegistry', () => {
  it('renders counters, gauges read at scrape time and cumulative histograms in the text format', () => {
    const registry = new MetricsRegistry();
    registry.counter('jobs_total', 'Jobs.').inc({ name: 'a"b' }, 2);
    let depth = 1;
    registry.gauge('depth', 'Depth.').track({ name: 'q' }, () => depth);
    const latency = registry.histogram('latency_seconds', 'Latency.', [0.1, 1]);
    latency.observe({ name: 'q' }, 0.05);
    latency.observe({ name: 'q' }, 0.5);
    latency.observe({ name: 'q' }, 3);
    depth = 7;

    expect(registry.render().split('\n')).toEqual([
      '# HELP jobs_total Jobs.',
      '# TYPE jobs_total counter',
      'jobs_total{name="a\\"b"} 2',
      '# HELP depth Depth.',
      '# TYPE depth gauge',
      'depth{name="q"} 7',
      '# HELP latency_seconds Latency.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{name="q",le="0.1"} 1',
      'latency_seconds_bucket{name="q",le="1"} 2',
      'latency_seconds_bucket{name="q",le="+Inf"} 3',
      'latency_seconds_sum{name="q"} 3.55',
      'latency_seconds_count{name="q"} 3',
      '',
    ]);
  });

  it('hands out one metric per name', () => {
    const registry = new MetricsRegistry();
    registry.counter('c', 'C.').inc();
    registry.counter('c', 'C.').inc();
    expect(registry.render()).toContain('c 2');
  });
});
