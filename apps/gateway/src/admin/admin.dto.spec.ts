import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { UpdateConversationDto } from './admin.dto';

/** The gateway's pipe options (main.ts): unknown fields and invalid values are a 400. */
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });
const update = (body: unknown): Promise<unknown> =>
  pipe.transform(body, { type: 'body', metatype: UpdateConversationDto });

describe('UpdateConversationDto', () => {
  it('takes a title, whole days from 1 to 36500, null for either, or nothing', async () => {
    for (const body of [
      {},
      { title: 'Friday' },
      { title: null },
      { retentionDays: 1 },
      { retentionDays: 36500 },
      { retentionDays: null },
      { title: 'x', retentionDays: 30 },
    ])
      await expect(update(body)).resolves.toEqual(body);
  });

  it('refuses other retentions, a long or non-string title and unknown fields', async () => {
    for (const body of [
      { retentionDays: 0 },
      { retentionDays: 36501 },
      { retentionDays: 1.5 },
      { retentionDays: '30' },
      { retentionDays: true },
      { title: 'x'.repeat(201) },
      { title: 7 },
      { retention: 30 },
    ])
      await expect(update(body)).rejects.toBeInstanceOf(BadRequestException);
  });
});
