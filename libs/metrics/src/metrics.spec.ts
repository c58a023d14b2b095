import { Histogram, metrics } from './metrics';

describe('Histogram', () => {
  it('renders cumulative buckets, sum and count per label set', () => {
    const h = new Histogram('t_seconds', 'test', [0.1, 1]);
    h.observe({ stage: 'a' }, 0.05);
    h.observe({ stage: 'a' }, 0.5);
    h.observe({ stage: 'a' }, 5);
    const text = h.render();
    expect(text).toContain('t_seconds_bucket{stage="a",le="0.1"} 1');
    expect(text).toContain('t_seconds_bucket{stage="a",le="1"} 2');
    expect(text).toContain('t_seconds_bucket{stage="a",le="+Inf"} 3');
    expect(text).toContain('t_seconds_count{stage="a"} 3');
    expect(text).toContain('t_seconds_sum{stage="a"} 5.55');
  });
});

describe('process gauges', () => {
  it('reads resident and heap memory when the registry is rendered', () => {
    const text = metrics.render();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('nodejs_heap_used_bytes')).toBeGreaterThan(0);
    expect(value('nodejs_external_memory_bytes')).toBeGreaterThan(0);
  });
});
