import { Histogram } from './metrics';

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
