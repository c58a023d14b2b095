import { ArgumentsHost, HttpServer, Logger, NotFoundException } from '@nestjs/common';
import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError';
import { KafkaJSConnectionError } from 'kafkajs';
import { DatabaseUnavailableError } from '@im/database';
import { OutageFilter } from './outage.filter';

/** REST answers an outage with 503 so that app servers retry; everything else as Nest does. */
describe('OutageFilter', () => {
  beforeEach(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  function setup(type: 'http' | 'rpc' = 'http') {
    /** What the filter wrote itself (status and JSON), and what it left to Nest's adapter. */
    const written: { status?: number; json?: unknown } = {};
    const response = {
      status(code: number) {
        written.status = code;
        return this;
      },
      json(body: unknown) {
        written.json = body;
        return this;
      },
    };
    const replies: { body: unknown; status?: number }[] = [];
    const adapter = {
      isHeadersSent: () => false,
      reply: (_response: unknown, body: unknown, status?: number) => void replies.push({ body, status }),
      end: () => undefined,
    } as unknown as HttpServer;
    const host = {
      getType: () => type,
      getArgByIndex: (i: number) => (i === 1 ? response : undefined),
      switchToHttp: () => ({ getResponse: () => response }),
    } as unknown as ArgumentsHost;
    const filter = new OutageFilter(adapter);
    return { catch: (error: unknown) => filter.catch(error, host), written, replies };
  }

  it.each([
    ['Redis', new MaxRetriesPerRequestError(3)],
    ['PostgreSQL', new DatabaseUnavailableError(new Error('connect ECONNREFUSED'))],
    ['Kafka', new KafkaJSConnectionError('Connection error')],
  ])('answers an outage of %s with 503 and a JSON body that says to retry', (_, error) => {
    const { catch: handle, written, replies } = setup();
    handle(error);
    expect(written).toEqual({
      status: 503,
      json: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'a service this request needs is unavailable; retry',
      },
    });
    expect(replies).toEqual([]);
  });

  it('leaves a bug to Nest, which answers 500 (a bug is not retried as an outage)', () => {
    const { catch: handle, written, replies } = setup();
    handle(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(written).toEqual({});
    expect(replies).toEqual([{ body: expect.objectContaining({ statusCode: 500 }), status: 500 }]);
  });

  it('leaves an HTTP exception to Nest with its own status and message', () => {
    const { catch: handle, written, replies } = setup();
    handle(new NotFoundException('conversation c9 not found'));
    expect(written).toEqual({});
    expect(replies).toEqual([
      {
        body: expect.objectContaining({ statusCode: 404, message: 'conversation c9 not found' }),
        status: 404,
      },
    ]);
  });

  it('does not write an HTTP 503 outside an HTTP request', () => {
    const { catch: handle, written } = setup('rpc');
    handle(new MaxRetriesPerRequestError(3));
    expect(written).toEqual({});
  });
});
