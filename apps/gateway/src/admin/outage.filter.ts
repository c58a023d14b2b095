import { ArgumentsHost, Catch, HttpException, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { failureCode } from '../errors/failure-code';

/**
 * REST answers an outage of Kafka, PostgreSQL or Redis with 503 and a JSON body, so that an
 * app server knows to retry; everything else is answered as Nest answers it (bugs are 500).
 */
@Catch()
export class OutageFilter extends BaseExceptionFilter {
  override catch(error: unknown, host: ArgumentsHost): void {
    if (error instanceof HttpException || failureCode(error) !== 'unavailable' || host.getType() !== 'http')
      return super.catch(error, host);
    host.switchToHttp().getResponse<Response>().status(HttpStatus.SERVICE_UNAVAILABLE).json({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      message: 'a service this request needs is unavailable; retry',
    });
  }
}
