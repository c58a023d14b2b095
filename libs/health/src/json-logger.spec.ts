import { splitFields } from './json-logger';

describe('splitFields', () => {
  it('lifts a trailing JSON object into fields', () => {
    expect(splitFields('stored {"messageId":"m1","conversationId":"c1"}')).toEqual({
      msg: 'stored',
      messageId: 'm1',
      conversationId: 'c1',
    });
  });
  it('keeps text that does not end in an object', () => {
    expect(splitFields('plain text')).toEqual({ msg: 'plain text' });
    expect(splitFields('broken {not json}')).toEqual({ msg: 'broken {not json}' });
  });
});
