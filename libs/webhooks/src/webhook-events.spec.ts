import { previewOf } from './webhook-events';

describe('previewOf', () => {
  it('is the first 100 characters of a text body', () => {
    expect(previewOf('text', { text: 'hi' })).toBe('hi');
    expect(previewOf('text', { text: 'x'.repeat(150) })).toBe('x'.repeat(100));
  });

  it('counts characters, never splitting one in two', () => {
    const preview = previewOf('text', { text: '😀'.repeat(120) });
    expect([...preview]).toHaveLength(100);
    expect(preview).toBe('😀'.repeat(100));
  });

  it('is empty for every other kind of message', () => {
    expect(previewOf('image', { url: 'https://x/y.png' })).toBe('');
    expect(previewOf('edit', { targetSeq: 1, body: { text: 'x' } })).toBe('');
  });
});
